-- Novora warehouse, version 3: the sentiment classifier gains a fine-tuned encoder (assets/nlp/tuning.py).
-- A classifier is now two softmax layers (JSON) plus the encoder's low-rank adapter (a safetensors file, about
-- 1.3 MB). Classifiers of the previous format cannot be read any more: they are dropped, and the shipped one (or
-- a retrained one) takes their place on the next enrichment run. Cached embeddings stay valid: the sentence
-- view of each text is unchanged, the two new views are added on the next embeddings run.

delete from nlp.sentiment_models;
alter table nlp.sentiment_models add column adapter bytea not null;
alter table nlp.sentiment_models add column adapter_sha256 text not null;
