// Error bars and mixing diagnostics of +-1 quantities (spins s_i, edge products s_i s_j) sampled
// by C independent Markov chains of N samples each, from sums only: the job feeds every sample
// of every chain in time order, and the class keeps per chain and quantity the sums of its R-hat
// segments and of its batches, never the samples themselves.
//
// Definitions (m_c: chain c's mean, m: the mean over all C N samples):
//   between chains  se^2 = sum_c (m_c - m)^2 / (C (C - 1)), Student-t with C - 1 dof;
//   batch means     each chain cut into B batches (sizes differ by at most 1, batch k of a chain
//                   is its samples [floor(k N / B), floor((k + 1) N / B))), pooled over chains:
//                   sigma^2 = sum_c sum_k b_ck (m_ck - m_c)^2 / (C (B - 1)), se^2 = sigma^2 /
//                   (C N), C (B - 1) dof (Flegal and Jones, Ann. Stat. 38(2), 2010);
//   split R-hat     every chain cut into S segments (S = 2, halves, with C >= 2 chains; S = 4,
//                   quarters, with one chain), M = C S sequences of n samples, the classic
//                   potential scale reduction of Gelman et al. (BDA3, 2013, sec. 11.4) as
//                   recommended split by Vehtari et al. (Bayesian Analysis 16(2), 2021):
//                   W = mean_j s_j^2, B/n = var_j(theta_j), var+ = (n - 1)/n W + B/n,
//                   R = sqrt(var+ / W). A +-1 quantity's sample variance follows from its mean,
//                   s_j^2 = n/(n - 1) (1 - theta_j^2), so sums suffice. W = 0 with B > 0 (every
//                   sequence constant, not all alike) is R = +inf;
//   ESS             C N Var(s) / sigma_pool^2, sigma_pool^2 from all C B batches around the grand
//                   mean (so chains that disagree lower it), Var(s) = CN/(CN - 1) (1 - m^2).
// A quantity that never changed in any chain ("frozen") gets no error bar, R-hat or ESS: its
// samples carry no information on its spread (a strong bias does that, and so does a stuck
// chain). Unavailable values are NaN.
//
// Thread contract: a plain value type; one thread at a time.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace kelvin::runtime::detail {

class ChainStatistics {
 public:
  struct Estimate {
    double mean = 0.0;
    double stderr_between_chains = std::numeric_limits<double>::quiet_NaN();
    double stderr_batch_means = std::numeric_limits<double>::quiet_NaN();
    double split_rhat = std::numeric_limits<double>::quiet_NaN();
    double ess = std::numeric_limits<double>::quiet_NaN();
    bool frozen = false;
  };

  // `batches` per chain is reduced to N when N is smaller.
  ChainStatistics(std::uint32_t chains, std::uint64_t per_chain, std::size_t quantities,
                  std::uint32_t batches)
      : chains_(chains),
        per_chain_(per_chain),
        quantities_(quantities),
        batches_(static_cast<std::uint32_t>(std::min<std::uint64_t>(batches, per_chain))),
        segments_(chains >= 2 ? 2u : 4u),
        cursor_(chains),
        batch_sum_(std::size_t{chains} * quantities, 0),
        batch_square_(std::size_t{chains} * quantities, 0.0),
        segment_sum_(std::size_t{chains} * segments_ * quantities, 0) {}

  std::uint32_t chains() const noexcept { return chains_; }
  std::uint64_t per_chain() const noexcept { return per_chain_; }
  std::uint32_t batches() const noexcept { return batches_; }
  std::uint32_t segments() const noexcept { return segments_; }  // per chain
  // Degrees of freedom of the two standard errors (0: not available).
  std::uint64_t between_chains_dof() const noexcept { return chains_ >= 2 ? chains_ - 1 : 0; }
  std::uint64_t batch_means_dof() const noexcept {
    return batches_ >= 2 ? std::uint64_t{chains_} * (batches_ - 1) : 0;
  }

  // The next sample of `chain` (samples of one chain in time order): one +-1 per quantity.
  void add(std::uint32_t chain, std::span<const std::int8_t> values) {
    Cursor& at = cursor_[chain];
    if (at.t >= per_chain_)
      return;
    while (at.segment + 1 < segments_ && at.t >= boundary(at.segment + 1, segments_))
      ++at.segment;
    std::int64_t* batch = batch_sum_.data() + std::size_t{chain} * quantities_;
    std::int64_t* segment =
        segment_sum_.data() + (std::size_t{chain} * segments_ + at.segment) * quantities_;
    for (std::size_t q = 0; q < quantities_; ++q) {
      batch[q] += values[q];
      segment[q] += values[q];
    }
    ++at.t;
    if (batches_ > 0 && at.t == boundary(at.batch + 1, batches_)) {
      const double size =
          static_cast<double>(boundary(at.batch + 1, batches_) - boundary(at.batch, batches_));
      double* square = batch_square_.data() + std::size_t{chain} * quantities_;
      for (std::size_t q = 0; q < quantities_; ++q) {
        const auto s = static_cast<double>(batch[q]);
        square[q] += s * s / size;
        batch[q] = 0;
      }
      ++at.batch;
    }
  }

  Estimate estimate(std::size_t q) const {
    Estimate e;
    const double n_chain = static_cast<double>(per_chain_);
    const double n_total = n_chain * chains_;
    if (per_chain_ == 0)
      return e;
    std::vector<double> chain_sum(chains_, 0.0);
    double total = 0.0;
    for (std::uint32_t c = 0; c < chains_; ++c) {
      for (std::uint32_t j = 0; j < segments_; ++j)
        chain_sum[c] +=
            static_cast<double>(segment_sum_[(std::size_t{c} * segments_ + j) * quantities_ + q]);
      total += chain_sum[c];
    }
    e.mean = total / n_total;
    e.frozen = std::abs(total) == n_total;
    if (e.frozen)
      return e;

    if (chains_ >= 2) {
      double spread = 0.0;
      for (const double s : chain_sum)
        spread += (s / n_chain - e.mean) * (s / n_chain - e.mean);
      e.stderr_between_chains = std::sqrt(spread / (chains_ * (chains_ - 1.0)));
    }
    double within = 0.0, pooled = 0.0;
    for (std::uint32_t c = 0; c < chains_; ++c) {
      const double square = batch_square_[std::size_t{c} * quantities_ + q];
      within += square - chain_sum[c] * chain_sum[c] / n_chain;
      pooled += square;
    }
    pooled -= n_total * e.mean * e.mean;
    if (batches_ >= 2) {
      const double sigma2 = std::max(within, 0.0) / (chains_ * (batches_ - 1.0));
      e.stderr_batch_means = std::sqrt(sigma2 / n_total);
    }
    const double draws = static_cast<double>(chains_) * batches_;
    if (draws >= 2 && pooled > 0.0 && n_total > 1)
      e.ess = n_total * (n_total / (n_total - 1.0)) * (1.0 - e.mean * e.mean) /
              (pooled / (draws - 1.0));
    e.split_rhat = split_rhat(q);
    return e;
  }

 private:
  struct Cursor {
    std::uint64_t t = 0;
    std::uint32_t batch = 0;
    std::uint32_t segment = 0;
  };

  // First sample of part k of `parts` equal parts of a chain.
  std::uint64_t boundary(std::uint64_t k, std::uint64_t parts) const noexcept {
    // k N / parts: N <= 2^32 (a job's sweeps) and k <= parts <= 2^20 cannot overflow.
    return k * per_chain_ / parts;
  }

  double split_rhat(std::size_t q) const {
    const std::uint32_t sequences = chains_ * segments_;
    double w = 0.0, theta_sum = 0.0, theta_square = 0.0;
    for (std::uint32_t c = 0; c < chains_; ++c) {
      for (std::uint32_t j = 0; j < segments_; ++j) {
        const auto n = static_cast<double>(boundary(j + 1, segments_) - boundary(j, segments_));
        if (n < 2)
          return std::numeric_limits<double>::quiet_NaN();
        const double theta =
            static_cast<double>(segment_sum_[(std::size_t{c} * segments_ + j) * quantities_ + q]) /
            n;
        w += n / (n - 1.0) * std::max(1.0 - theta * theta, 0.0);
        theta_sum += theta;
        theta_square += theta * theta;
      }
    }
    w /= sequences;
    const double theta_mean = theta_sum / sequences;
    const double between =
        std::max(theta_square - sequences * theta_mean * theta_mean, 0.0) / (sequences - 1.0);
    const double n = static_cast<double>(per_chain_) / segments_;
    if (w <= 0.0)
      return between > 0.0 ? std::numeric_limits<double>::infinity()
                           : std::numeric_limits<double>::quiet_NaN();
    return std::sqrt(((n - 1.0) / n * w + between) / w);
  }

  std::uint32_t chains_;
  std::uint64_t per_chain_;
  std::size_t quantities_;
  std::uint32_t batches_;
  std::uint32_t segments_;
  std::vector<Cursor> cursor_;
  std::vector<std::int64_t> batch_sum_;    // [chain][quantity], the open batch
  std::vector<double> batch_square_;       // [chain][quantity]: sum_k S_k^2 / b_k
  std::vector<std::int64_t> segment_sum_;  // [chain][segment][quantity]
};

}  // namespace kelvin::runtime::detail
