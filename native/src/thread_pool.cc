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

// How an idle worker waits for the next job, in three phases (adaptive to load):
//  1. kSpin of busy polling: the kernels of a decode step follow each other within
//     microseconds of JS glue, and a polling worker starts the next one at once;
//  2. up to kYieldSpin polling with a sched_yield between polls: on a quiet machine
//     yield returns at once (nothing else wants the core), so this is still spinning
//     and a decode step's FFN calls never pay a wake-up (sleeping after 200 µs cost
//     TDA at 50% on a 341M-parameter model 1.31× -> 1.26× of dense); on a busy
//     machine every poll hands the core to a runnable thread — other processes, or
//     this process's own calling thread — instead of burning it;
//  3. sleep on a condition variable (an idle process burns no CPU).
// A worker asleep when a job is posted is never waited for: the caller starts on the
// chunks at once and the worker joins when it wakes.
static constexpr auto kSpin = std::chrono::microseconds(50);
static constexpr auto kYieldSpin = std::chrono::microseconds(2000);

ThreadPool::ThreadPool(int threads) : size_(threads < 1 ? 1 : threads) {
  for (int i = 1; i < size_; i++) workers_.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  {
    std::lock_guard<std::mutex> lk(sleepMutex_);
    state_.fetch_add(uint64_t{1} << 32);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::work(uint32_t job) {
  uint64_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    if (static_cast<uint32_t>(s >> 32) != job) return;
    const uint32_t chunks = (s >> 16) & 0xffff, next = s & 0xffff;
    if (next >= chunks) return;
    if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    task_(ctx_, static_cast<int>(next), static_cast<int>(chunks));
    done_.fetch_add(1, std::memory_order_release);
    s = state_.load(std::memory_order_acquire);
  }
}

void ThreadPool::run(Task fn, void* ctx, int chunks) {
  if (chunks < 1) chunks = 1;
  if (chunks > kMaxChunks) chunks = kMaxChunks;
  if (chunks == 1 || size_ <= 1) {
    for (int c = 0; c < chunks; c++) fn(ctx, c, chunks);
    return;
  }
  std::unique_lock<std::mutex> job(busy_, std::try_to_lock);
  if (!job.owns_lock()) {
    for (int c = 0; c < chunks; c++) fn(ctx, c, chunks);
    return;
  }
  task_ = fn;
  ctx_ = ctx;
  done_.store(0, std::memory_order_relaxed);
  const uint32_t id = static_cast<uint32_t>(state_.load() >> 32) + 1;
  // seq_cst store, then seq_cst read of sleepers_: paired with the worker's seq_cst
  // increment of sleepers_ followed by its read of state_, at least one side sees the
  // other, so no wake-up is lost.
  state_.store(pack(id, static_cast<uint32_t>(chunks), 0));
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lk(sleepMutex_);
    wake_.notify_all();
  }
  work(id);
  // Only chunks already claimed by a running worker are left: wait for those.
  for (unsigned polls = 0; done_.load(std::memory_order_acquire) != chunks; polls++) {
    if (polls < 4096)
      TDA_PAUSE();
    else
      std::this_thread::yield();  // the worker was descheduled mid-chunk: let it run
  }
}

void ThreadPool::workerLoop() {
  uint32_t seen = 0;
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    uint32_t id;
    unsigned polls = 0;
    bool yielding = false;
    while ((id = static_cast<uint32_t>(state_.load(std::memory_order_acquire) >> 32)) == seen) {
      if (yielding) {
        std::this_thread::yield();
      } else {
        TDA_PAUSE();
      }
      if ((++polls & (yielding ? 0 : 63)) == 0) {
        const auto waited = std::chrono::steady_clock::now() - start;
        if (waited > kYieldSpin) break;
        yielding = waited > kSpin;
      }
    }
    if (id == seen) {
      std::unique_lock<std::mutex> lk(sleepMutex_);
      sleepers_.fetch_add(1);
      wake_.wait(lk, [&] { return static_cast<uint32_t>(state_.load() >> 32) != seen; });
      sleepers_.fetch_sub(1);
      id = static_cast<uint32_t>(state_.load() >> 32);
    }
    seen = id;
    if (stop_.load()) return;
    work(id);
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
