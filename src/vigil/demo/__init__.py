"""The demo data set: a week of a fictional company's security and observability data, with
the alerts raised on it, generated reproducibly and loaded into a running Vigil (`vigil demo load`)."""
