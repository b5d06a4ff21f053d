"""The knowledge base: entries the team teaches the assistant, built-in reference content, and
hybrid (full-text + dense) retrieval over both, with citations. See docs/knowledge-base.md."""
