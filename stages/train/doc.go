// Package train is the training stage: data-parallel SGD over replicas
// (CPU engines, or GPUs through the same tensor.Device interface) with
// MMDetection's schedule semantics, per-epoch checkpoints that a rerun
// resumes from, JSON log lines and a train_log table.
//
// Data parallelism: each iteration takes Replicas x ImagesPerReplica images;
// replica r trains on its share, gradients are averaged over replicas, and
// every replica applies the same SGD step, so replicas stay identical.
// Randomness (flips, RoI sampling) is drawn from generators seeded by the
// run's seed and each image's global position, never by which replica runs
// it, so 2 replicas x 1 image and 1 replica x 2 images train the same.
//
// Input: a batch.Loader decodes and transforms the next batches' images on
// up to GOMAXPROCS goroutines while a step computes; the log's data_time is
// the step's wait for its batch.
package train
