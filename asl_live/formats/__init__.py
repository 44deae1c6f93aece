"""One owner per data format: the 543-row frame layout, GISLR parquet and datasets, MP_Data."""
