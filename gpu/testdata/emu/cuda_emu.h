// cuda_emu.h: runs the CUDA C kernels of gpu/kernels on the CPU for
// gpu/emulate_test.go. Each launch starts blockDim.x OS threads that walk
// the grid block by block, so __syncthreads is a real barrier and
// __shared__ (static) arrays are shared by the threads of the block being
// run. atomicAdd is a real atomic. Test support only: never built into
// detflow.
#pragma once
#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

using std::max;
using std::min;

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static

struct emu_dim3 {
    unsigned x = 1, y = 1, z = 1;
};
inline thread_local emu_dim3 threadIdx, blockIdx;
inline emu_dim3 blockDim, gridDim;
inline std::barrier<>* emu_barrier = nullptr;

inline void __syncthreads() { emu_barrier->arrive_and_wait(); }
inline float __int_as_float(int v) {
    float f;
    std::memcpy(&f, &v, 4);
    return f;
}
inline float atomicAdd(float* p, float v) { return std::atomic_ref<float>(*p).fetch_add(v); }

// emu_launch runs fn as a grid of blocks with blockDim.x threads each.
inline void emu_launch(emu_dim3 grid, emu_dim3 block, const std::function<void()>& fn) {
    gridDim = grid;
    blockDim = block;
    unsigned nt = block.x * block.y * block.z;
    std::barrier<> bar(nt);
    emu_barrier = &bar;
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < nt; t++) {
        threads.emplace_back([&, t] {
            threadIdx = {t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
            for (unsigned bz = 0; bz < grid.z; bz++)
                for (unsigned by = 0; by < grid.y; by++)
                    for (unsigned bx = 0; bx < grid.x; bx++) {
                        blockIdx = {bx, by, bz};
                        fn();
                        bar.arrive_and_wait();  // the next block reuses __shared__
                    }
        });
    }
    for (auto& th : threads) th.join();
}
