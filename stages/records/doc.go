// Package records is the records stage: it joins each image's encoded bytes,
// ground truth and proposals into deterministically shuffled Parquet shards
// (schemas.Record rows), and provides the reader the trainer and the
// evaluator stream them with.
//
// Layout of the stage folder:
//
//	<split>/shard-00000-of-00004.parquet   shards of records.shard_size images
//	<split>/index.json                     per shard: rows, bytes, sha256
//
// Shards are written by a Beam pipeline whose elements are shard specs (a
// shard number and its image ids), never images or whole shards.
package records
