"""ES|QL conformance kit: Elasticsearch's own csv-spec tests run against Vigil over HTTP.

`spec` reads the csv-spec files, `expected` their result tables, `values` renders values the way
Elasticsearch's Java test harness compares them, `compare` checks a `/_query` answer as
`EsqlSpecTestCase` does, `scope` decides which tests need an out-of-scope feature, `datasets`
loads the test indices through `PUT /{index}` and `_bulk`, and `runner` ties them together.
"""
