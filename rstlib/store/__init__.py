"""The run store: one directory per run, its records, the evaluation cache, results as a table, and the
comparison of two stores."""
