// Package configs holds detflow's experiment configs and their loader.
//
// A config is YAML checked against a typed schema (Config and the structs
// below it; yaml tags are the keys). The configs ship embedded in the
// binary, so `pipeline` works from any directory:
//
//	defaults.yaml                 every key with its documented default
//	<name>.yaml                   runnable configs, loaded by name (Names)
//	_base_/models/*.yaml          detectors (MMDetection's _base_/models)
//	_base_/datasets/*.yaml        data sets and image pipelines
//	_base_/schedules/*.yaml       1x, 2x and the tiny CPU schedule
//	_base_/default_runtime.yaml   checkpointing, logging, seeds
//
// Resolution (Load): start from defaults.yaml; apply the file's _base_
// list in order, each base with its own bases first; apply the file; apply
// each --set in order. Mappings merge key by key; lists and scalars
// replace. A mapping holding `_delete_: true` replaces instead of merging:
// its key is first reset to the defaults, dropping whatever earlier files
// set there. An unknown key in any file or --set is an error naming the
// file and line (or the --set), the full key path and the nearest valid
// key. Values are typed by the schema: integers, numbers (integers
// accepted), true/false, strings, and lists of those; null empties strings
// and lists. The resolved config is then validated (enums, ranges, and
// rules tying keys together, such as FPN input channels matching the
// backbone); every broken rule is reported with the place its value was set.
//
// Values gives each leaf's canonical text under key prefixes, which the
// orchestrator fingerprints stages with; YAML gives the resolved config,
// which loads back to identical Values.
package configs
