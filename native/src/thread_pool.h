// A persistent pool of worker threads for the CPU kernels.
//
// Why persistent: a decode step calls ~10 kernels per layer, many of them a few
// microseconds long. Spawning threads per call (tens of microseconds each) would
// cost more than the work. Workers stay alive, spin for a short while after each
// job (so back-to-back kernel calls start in well under a microsecond) and then
// sleep on a condition variable so an idle process burns no CPU.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace tda {

class ThreadPool {
 public:
  // fn(ctx, part, parts): do part `part` of `parts` equal shares of the work.
  using Task = void (*)(void* ctx, int part, int parts);

  explicit ThreadPool(int threads);
  ~ThreadPool();

  int size() const { return size_; }

  // Runs fn on `parts` threads (the caller is one of them) and returns when all
  // are done. parts is clamped to [1, size()]. If another thread (a second JS
  // worker_thread using the same addon) is already running a job, this call runs
  // all parts itself rather than waiting: results are identical either way.
  void run(Task fn, void* ctx, int parts);

 private:
  void workerLoop(int id);

  int size_;
  std::vector<std::thread> workers_;
  std::mutex busy_;  // one job at a time
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  Task task_ = nullptr;
  void* ctx_ = nullptr;
  int parts_ = 1;
  std::mutex sleepMutex_;
  std::condition_variable wake_;
};

// The process-wide pool (size: TDA_NATIVE_THREADS or hardware concurrency).
ThreadPool& pool();

}  // namespace tda
