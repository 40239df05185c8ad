// Package nn holds detflow's layers, initialisers, optimizers, learning rate
// schedules and checkpoint IO, built on package tensor.
//
// Modules name their parameters and buffers the way PyTorch's state_dict
// does: children are joined with dots and Sequential children are numbered,
// so a torchvision ResNet's "layer1.0.conv1.weight" or "bn1.running_mean"
// means the same tensor here. That is what lets checkpoints move between
// detflow and PyTorch: LoadPth imports a torch.save'd state dict (via
// nn/pth), SaveCheckpoint/LoadCheckpoint write and read safetensors files
// (via nn/safetensors) holding the model, the optimizer state and the step.
//
// Layers take NCHW tensors (see package tensor for the shape letters).
// Randomness (initialisers) always comes from a *rand.Rand passed in, so a
// seed fully determines a model; the package keeps no mutable state.
//
// A training step, with e the model's tensor.Engine:
//
//	mark := e.Mark()
//	nn.ZeroGrad(model)
//	loss := lossOf(model.Forward(batch))
//	loss.Backward()
//	norm := nn.ClipGradNorm(params, 35)
//	opt.LR = float32(schedule.LR(epoch, iter))
//	opt.Step()
//	e.Release(mark) // activations go back to the pool
package nn
