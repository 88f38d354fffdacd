-- Run once by the postgres image when its data volume is first initialised (as POSTGRES_USER, connected to
-- POSTGRES_DB = the warehouse `novora`). Dagster's run, event-log and schedule storage lives in a database of
-- its own on the same server (SPEC section 1; orchestration.config.DAGSTER_DB). The warehouse schema itself
-- is created by `novora db start` (the compose `init` service), not here.
CREATE DATABASE dagster;
