// Package schemas holds the row types of every Parquet table detflow writes,
// in one place, with the schema version each file carries in its key-value
// metadata. Tables are plain Parquet: DuckDB, pyarrow and pandas read them.
package schemas
