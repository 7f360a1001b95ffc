"""Running an audit's heavy, row-wise work at scale.

engine
    Local and Dask execution of partition tasks: PII scan, count tables, model scoring.
streaming
    Reading CSV, Parquet (files and hive-partitioned directories) and SQL sources in batches.
progress
    Stage, rows done, rate and ETA for long runs.
"""
