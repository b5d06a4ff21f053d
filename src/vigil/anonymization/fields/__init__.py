"""Anonymization fields: per space, which document fields may be sent to the model (`allowed`) and
which of those are replaced by placeholders first (`anonymized`). Kibana's Anonymization Fields API
(`kbn-elastic-assistant-common/impl/schemas/anonymization_fields/*`)."""
