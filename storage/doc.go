// Package storage reads and writes files on local disks and in Google Cloud
// Storage (gs://bucket/key) through one small type, FS, that every detflow
// stage uses for all of its I/O.
//
// Paths are plain strings: a path starting with "gs://" names an object (or,
// for directory operations, every object under a "key/" prefix) in a GCS
// bucket; any other path is a local file path.
//
// Writes are invisible until committed. Create returns a Writer whose bytes
// land in a temporary file in the destination's directory (local) or in an
// upload that GCS only turns into an object when it completes (gs://); Commit
// publishes the file atomically and Abort discards it, so a crash at any
// instant leaves either the previous file or none, never a torn one.
//
// GCS has no directories and no atomic rename of many objects. MkdirAll is a
// no-op there, a "directory" exists as long as an object lies under its
// prefix, and Rename of a directory copies every object and then deletes the
// originals. Callers that publish a directory of outputs must therefore
// commit by writing a manifest last, as the pipelines package does.
//
// Missing files report errors that satisfy errors.Is(err, fs.ErrNotExist) on
// both backends.
package storage
