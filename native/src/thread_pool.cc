#include "thread_pool.h"

#include <chrono>
#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TDA_PAUSE() _mm_pause()
#else
#define TDA_PAUSE() std::this_thread::yield()
#endif

namespace tda {

// How long an idle worker keeps polling before it sleeps. Long enough to cover every
// gap inside one decode step — JS glue, and kernels small enough to run on the
// calling thread alone — because a sleeping worker costs a condition-variable
// wake-up at the next FFN call, which a short sliced call feels most (measured on a
// 341M-parameter model: 200 µs let workers fall asleep between calls and TDA at 50%
// decoded 1.26× faster than dense; 2 ms gives 1.31–1.32×). Short enough that an idle
// program does not keep a core busy for long.
static constexpr auto kSpin = std::chrono::microseconds(2000);

ThreadPool::ThreadPool(int threads) : size_(threads < 1 ? 1 : threads) {
  for (int i = 1; i < size_; i++) workers_.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  {
    std::lock_guard<std::mutex> lk(sleepMutex_);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run(Task fn, void* ctx, int parts) {
  if (parts > size_) parts = size_;
  if (parts <= 1) {
    fn(ctx, 0, 1);
    return;
  }
  std::unique_lock<std::mutex> job(busy_, std::try_to_lock);
  if (!job.owns_lock()) {
    for (int p = 0; p < parts; p++) fn(ctx, p, parts);
    return;
  }
  task_ = fn;
  ctx_ = ctx;
  parts_ = parts;
  // Every worker acknowledges every job (those with id >= parts just count down),
  // so no worker can still be reading task_/parts_ when the next job is posted.
  pending_.store(size_ - 1);
  // seq_cst increment, then seq_cst read of sleepers_: paired with the worker's
  // seq_cst increment of sleepers_ followed by its read of generation_, at least one
  // side sees the other, so no wake-up is lost.
  generation_.fetch_add(1);
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lk(sleepMutex_);
    wake_.notify_all();
  }
  fn(ctx, 0, parts);
  while (pending_.load(std::memory_order_acquire) != 0) TDA_PAUSE();
}

void ThreadPool::workerLoop(int id) {
  // Start from generation 0, not from whatever generation_ holds when this thread
  // first runs: the first job can be posted (generation 0 -> 1) before a new
  // worker gets scheduled, and a worker that read 1 here would never run that job
  // while the caller spins forever on pending_ (seen as a hang on the first call).
  uint64_t seen = 0;
  for (;;) {
    // Spin first: the next job usually arrives within microseconds.
    auto until = std::chrono::steady_clock::now() + kSpin;
    uint64_t g;
    unsigned polls = 0;
    while ((g = generation_.load(std::memory_order_acquire)) == seen) {
      TDA_PAUSE();
      if ((++polls & 63) == 0 && std::chrono::steady_clock::now() > until) break;
    }
    if (g == seen) {
      std::unique_lock<std::mutex> lk(sleepMutex_);
      sleepers_.fetch_add(1);
      wake_.wait(lk, [&] { return generation_.load() != seen; });
      sleepers_.fetch_sub(1);
      g = generation_.load();
    }
    seen = g;
    if (stop_.load()) return;
    if (id < parts_) task_(ctx_, id, parts_);
    pending_.fetch_sub(1, std::memory_order_release);
  }
}

static int defaultThreads() {
  if (const char* env = std::getenv("TDA_NATIVE_THREADS")) {
    int n = std::atoi(env);
    if (n >= 1 && n <= 256) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : (hc > 64 ? 64 : static_cast<int>(hc));
}

ThreadPool& pool() {
  // Never destroyed: joining threads from a static destructor at process exit can
  // deadlock; the OS reclaims the threads.
  static ThreadPool* p = new ThreadPool(defaultThreads());
  return *p;
}

}  // namespace tda
