// A persistent pool of worker threads for the CPU kernels.
//
// Why persistent: a decode step calls ~10 kernels per layer, many of them a few
// microseconds long. Spawning threads per call (tens of microseconds each) would
// cost more than the work. Workers stay alive, spin briefly after each job and then
// sleep on a condition variable, so an idle process burns no CPU.
//
// Why chunks claimed at run time, not one fixed share per thread: on a busy machine
// (more runnable threads than cores) any thread can be descheduled for milliseconds.
// With fixed shares the caller would wait for a descheduled worker's share; here a job
// is split into more chunks than threads and every participant — the caller included —
// claims the next unclaimed chunk until none is left. The caller never waits for a
// worker that has not started: it does that worker's chunks itself, and only waits for
// chunks already being computed. Results do not depend on who computes which chunk.
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
  // fn(ctx, chunk, chunks): do chunk `chunk` of `chunks` equal shares of the work.
  using Task = void (*)(void* ctx, int chunk, int chunks);

  explicit ThreadPool(int threads);
  ~ThreadPool();

  int size() const { return size_; }

  // Runs fn on every chunk of [0, chunks) and returns when all are done; the calling
  // thread takes part. If another thread (a second JS worker_thread using the same
  // addon) is already running a job, this call runs all chunks itself rather than
  // waiting: results are identical either way.
  void run(Task fn, void* ctx, int chunks);

 private:
  void workerLoop();
  // Claims and runs chunks of job `job` until none is left.
  void work(uint32_t job);

  // The job word: job id (32 bits) | chunk count (16) | next unclaimed chunk (16).
  // A worker claims a chunk with a compare-and-swap on the whole word, so it can only
  // claim a chunk of the job it read, and job J cannot finish (nor task_/ctx_ change)
  // while a chunk of J it claimed is still running.
  static constexpr int kMaxChunks = 0xffff;
  static uint64_t pack(uint32_t job, uint32_t chunks, uint32_t next) {
    return (static_cast<uint64_t>(job) << 32) | (static_cast<uint64_t>(chunks) << 16) | next;
  }

  int size_;
  std::vector<std::thread> workers_;
  std::mutex busy_;  // one job at a time
  std::atomic<uint64_t> state_{0};
  std::atomic<int> done_{0};  // chunks of the current job finished
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  Task task_ = nullptr;
  void* ctx_ = nullptr;
  std::mutex sleepMutex_;
  std::condition_variable wake_;
};

// The process-wide pool (size: TDA_NATIVE_THREADS or hardware concurrency).
ThreadPool& pool();

}  // namespace tda
