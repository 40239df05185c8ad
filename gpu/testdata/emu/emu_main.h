// emu_main.h: the job runner of the kernel emulator (see cuda_emu.h). A job
// file names the kernel, the launch geometry, the memory regions (files
// read before and written back after the launch) and the arguments.
#pragma once
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

struct emu_region {
    std::vector<uint64_t> mem;  // 8-byte aligned storage
    size_t bytes = 0;
    std::string path;
};

struct emu_args {
    std::vector<emu_region>* regions;
    std::vector<std::string> kind;
    std::vector<long long> a, b;  // pointer: region, offset; scalar: value in a
    void* p(int i) const {
        if (a[i] < 0) return nullptr;
        return reinterpret_cast<char*>((*regions)[a[i]].mem.data()) + b[i];
    }
    int i(int k) const { return (int)a[k]; }
    float f(int k) const {
        uint32_t bits = (uint32_t)a[k];
        float v;
        std::memcpy(&v, &bits, 4);
        return v;
    }
};

bool emu_dispatch(const std::string& kernel, emu_dim3 grid, emu_dim3 block, const emu_args& a);

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: emu JOBFILE\n");
        return 2;
    }
    std::ifstream job(argv[1]);
    std::string line, kernel;
    emu_dim3 grid, block;
    std::vector<emu_region> regions;
    emu_args args;
    args.regions = &regions;
    while (std::getline(job, line)) {
        std::istringstream in(line);
        std::string key;
        in >> key;
        if (key == "kernel") {
            in >> kernel;
        } else if (key == "grid") {
            in >> grid.x >> grid.y >> grid.z;
        } else if (key == "block") {
            in >> block.x >> block.y >> block.z;
        } else if (key == "region") {
            emu_region r;
            in >> r.bytes >> r.path;
            r.mem.assign((r.bytes + 7) / 8 + 1, 0);
            std::ifstream f(r.path, std::ios::binary);
            f.read(reinterpret_cast<char*>(r.mem.data()), (std::streamsize)r.bytes);
            regions.push_back(std::move(r));
        } else if (key == "arg") {
            std::string k;
            long long x = 0, y = 0;
            in >> k >> x;
            if (k == "p") in >> y;
            args.kind.push_back(k);
            args.a.push_back(x);
            args.b.push_back(y);
        }
    }
    if (!emu_dispatch(kernel, grid, block, args)) {
        std::fprintf(stderr, "emu: unknown kernel %s\n", kernel.c_str());
        return 3;
    }
    for (auto& r : regions) {
        std::ofstream f(r.path, std::ios::binary | std::ios::trunc);
        f.write(reinterpret_cast<const char*>(r.mem.data()), (std::streamsize)r.bytes);
    }
    return 0;
}
