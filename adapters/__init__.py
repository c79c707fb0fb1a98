"""Translators between external systems (SNS, SES, SQS, Redis, databases) and the domain."""
