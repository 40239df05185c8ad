package query

import "errors"

// ErrNeedsCGO is what Run returns in a build without cgo.
var ErrNeedsCGO = errors.New("pipeline query needs a build with cgo (DuckDB): run `make build-query`, or build with CGO_ENABLED=1 go build -o bin/pipeline ./cmd/pipeline")
