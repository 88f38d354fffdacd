"""Comment intelligence: PII masking, safety flags, embeddings, sentiment, themes and semantic search.

Every module here is plain Python over strings and numpy arrays; ``assets/nlp/assets.py`` wraps them as
Dagster assets partitioned by survey.
"""
