"""The book: helpers for the pages, the build (papermill + Jupyter Book), tables in the paper's layout,
the table style, figures and Sec. 2's settings tables."""
