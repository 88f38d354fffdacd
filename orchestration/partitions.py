"""Surveys are the unit of delivery, re-delivery and backfill: one dynamic partition per survey id."""

import dagster as dg

SURVEY_PARTITIONS_NAME = "survey"

survey_partitions = dg.DynamicPartitionsDefinition(name=SURVEY_PARTITIONS_NAME)
