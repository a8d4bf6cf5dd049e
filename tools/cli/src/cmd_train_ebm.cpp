// kelvin train-ebm --data FILE [--hidden H] [--width W] [--steps N] [--batch B] [--free-copies F]
//                  [--chains C] [--burn-in N] [--sweeps N] [--sample-every K]
//                  [--learning-rate LR] [--schedule constant|inverse-time|cosine]
//                  [--decay-steps N] [--momentum M] [--weight-decay D]
//                  [--beta B | --beta-schedule SPEC] [--rounding nearest|stochastic] [--seed S]
//                  [--checkpoint OUT.json [--checkpoint-every K]] [--resume FILE]
//                  [--uri URI] [--timeout-s S] [--json]
//
// Trains a Boltzmann machine on a p-bit board (runtime/pbit/boltzmann_learning.hpp): the data's
// visible nodes and --hidden latent nodes laid out on a compact lattice region, visible and
// hidden on the two checkerboard colours (runtime/pbit/lattice_boltzmann_model.hpp), every
// lattice edge between them trained, the visible biases started at the data's independent-node
// model. Each step takes the next --batch examples (epoch after epoch, each epoch in an order
// seeded by --seed) and moves the weights along the board-measured log-likelihood gradient.
//
// --resume FILE continues a checkpoint: its model, options and step count; the minibatch
// sequence continues where it stopped. The training options are the checkpoint's, so giving one
// with --resume is a usage error. --steps is the number of steps this run adds.
//
// Data files: ebm_data_file.hpp. A malformed file fails naming file:line (exit 1, like every
// unreadable input file).
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "ebm_data_file.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/runtime/pbit/lattice_boltzmann_model.hpp"
#include "kelvin/tools/cli/commands.hpp"
#include "kelvin/tools/cli/options.hpp"
#include "sample_specs.hpp"
#include "train_ebm_report.hpp"

namespace kelvin::tools::cli {
namespace {

struct TrainEbmOptions {
  CommonOptions common;
  std::string data;
  std::uint32_t hidden = 4;
  std::uint32_t width = 0;
  std::uint64_t steps = 100;
  std::string beta_schedule;
  std::string checkpoint;
  std::uint64_t checkpoint_every = 0;
  std::string resume;
  runtime::BoltzmannOptions learn;
};

// The trainer: a new model on the data, or the checkpoint's.
runtime::BoltzmannTrainer make_trainer(const TrainEbmOptions& o, const EbmData& data,
                                       driver::PbitBoard& board) {
  if (!o.resume.empty())
    return runtime::BoltzmannTrainer::load_checkpoint(board, o.resume);
  runtime::BoltzmannOptions learn = o.learn;
  learn.timeout = o.common.timeout();
  if (!o.beta_schedule.empty())
    learn.beta_schedule = parse_beta_schedule(o.beta_schedule, board.pbit().max_schedule_length);
  try {
    learn.validate(board.pbit());
  } catch (const std::exception& e) {
    throw UsageError(fmt::format("{} (see 'kelvin train-ebm --help')", e.what()));
  }
  runtime::LatticeBoltzmannOptions layout;
  layout.width = o.width;
  layout.seed = learn.seed;
  layout.beta = learn.beta_schedule.empty() ? learn.beta : learn.beta_schedule.back();
  layout.visible_mean.assign(data.width(), 0.0);
  for (const auto& example : data.examples)
    for (std::size_t k = 0; k < example.size(); ++k)
      layout.visible_mean[k] += example[k] / static_cast<double>(data.examples.size());
  runtime::BoltzmannModel model = runtime::lattice_boltzmann_model(
      board.pbit(), static_cast<std::uint32_t>(data.width()), o.hidden, layout);
  return runtime::BoltzmannTrainer(board, std::move(model), learn);
}

std::string train(const TrainEbmOptions& o) {
  const EbmData data = read_ebm_data(o.data);
  driver::PbitBoard board = open_pbit_board(o.common.uri);
  runtime::BoltzmannTrainer trainer = make_trainer(o, data, board);
  const runtime::BoltzmannModel& model = trainer.model();
  const std::size_t visible = model.nodes_with(runtime::NodeRole::kVisible).size();
  if (!model.nodes_with(runtime::NodeRole::kInput).empty()) {
    throw common::Error(common::ErrorKind::kNotSupported,
                        fmt::format("{} has input nodes (a conditional model); train-ebm trains "
                                    "unconditional models only",
                                    o.resume));
  }
  if (visible != data.width()) {
    throw common::Error(common::ErrorKind::kInvalidArgument,
                        fmt::format("{} has {} values per example; the model of {} has {} "
                                    "visible nodes",
                                    o.data, data.width(), o.resume, visible));
  }

  EbmTrainingRun run;
  run.uri = board.device().address().to_string();
  run.data_file = o.data;
  run.examples = data.examples.size();
  run.encoding = data.encoding;
  run.resumed_from = o.resume;
  run.checkpoint_every = o.checkpoint_every;
  const std::uint32_t batch_size = trainer.options().batch;
  std::vector<runtime::BoltzmannExample> batch(batch_size);
  for (std::uint64_t k = 0; k < o.steps; ++k) {
    const std::vector<std::size_t> picked = minibatch_indices(
        data.examples.size(), trainer.steps_done(), batch_size, trainer.options().seed);
    for (std::uint32_t b = 0; b < batch_size; ++b)
      batch[b].visible = data.examples[picked[b]];
    const runtime::BoltzmannStepResult result = trainer.step(batch);
    run.steps.push_back(step_record(result));
    add_ledger(run.energy, result.summary.energy);
    run.device_time_s += result.summary.device_time_s;
    run.last = result.summary;
    if (!o.checkpoint.empty() && o.checkpoint_every > 0 && (k + 1) % o.checkpoint_every == 0)
      trainer.save_checkpoint(o.checkpoint);
  }
  if (!o.checkpoint.empty()) {
    trainer.save_checkpoint(o.checkpoint);
    run.checkpoint = o.checkpoint;
  }
  return o.common.json ? write_json(train_ebm_json(run, trainer)) : train_ebm_text(run, trainer);
}

}  // namespace

Command add_train_ebm_command(CLI::App& app) {
  auto options = std::make_shared<TrainEbmOptions>();
  TrainEbmOptions& o = *options;
  runtime::BoltzmannOptions& l = o.learn;
  CLI::App* command = app.add_subcommand(
      "train-ebm", "Train a Boltzmann machine (visible + hidden nodes) on a p-bit board");
  add_uri_option(*command, o.common, driver::BoardFamily::kPbit);
  command
      ->add_option("--data", o.data,
                   "Training examples: text, one per line, 0/1 or -1/+1 values separated by "
                   "spaces or commas, or a word of 0/1 characters; '#' comments")
      ->required();
  command->add_option("--steps", o.steps, "Training steps to run (added to a resumed model's)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32))
      ->capture_default_str();
  command
      ->add_option("--checkpoint", o.checkpoint,
                   "Write the model (JSON, kind kelvin.boltzmann-machine) to OUT.json at the "
                   "end, for generate and --resume")
      ->type_name("OUT.json");
  command
      ->add_option("--checkpoint-every", o.checkpoint_every,
                   "Also write the checkpoint every K steps (0: only at the end)")
      ->capture_default_str();
  CLI::Option* resume =
      command->add_option("--resume", o.resume, "Continue training the model of a checkpoint")
          ->type_name("FILE");
  // The model and its training options: from the command line for a new model, from the
  // checkpoint with --resume.
  std::vector<CLI::Option*> model_options;
  const auto keep = [&model_options](CLI::Option* option) {
    model_options.push_back(option->capture_default_str());
    return option;
  };
  keep(command->add_option("--hidden", o.hidden, "Hidden (latent) nodes"));
  keep(command->add_option("--width", o.width,
                           "Columns of the lattice region holding the model (0: the most "
                           "compact square)"));
  keep(command->add_option("--batch", l.batch, "Examples (clamped copies) per step"));
  keep(command->add_option("--free-copies", l.free_copies,
                           "Persistent free (model) chains per step, side by side on the board"));
  keep(command->add_option("--chains", l.chains, "Board chains per run"));
  keep(command->add_option("--burn-in", l.burn_in_sweeps, "Sweeps per step before sampling"));
  keep(command->add_option("--sweeps", l.sweeps, "Sampled sweeps per step"));
  keep(command->add_option("--sample-every", l.sample_every, "Sweeps between recorded samples"));
  keep(command->add_option("--learning-rate", l.learning_rate,
                           "Step size, coupling units per unit gradient"));
  keep(command
           ->add_option("--schedule", l.schedule,
                        "Learning-rate schedule: constant, inverse-time (lr / (1 + t / "
                        "decay-steps)) or cosine (period decay-steps)")
           ->transform(CLI::CheckedTransformer(
               std::map<std::string, runtime::LearningRateSchedule>{
                   {"constant", runtime::LearningRateSchedule::kConstant},
                   {"inverse-time", runtime::LearningRateSchedule::kInverseTime},
                   {"cosine", runtime::LearningRateSchedule::kCosine}},
               CLI::ignore_case)))
      ->default_str("constant");
  keep(command->add_option("--decay-steps", l.decay_steps, "Steps of the schedule's decay"));
  keep(command->add_option("--momentum", l.momentum, "Heavy-ball momentum in [0, 1)"));
  keep(command->add_option("--weight-decay", l.weight_decay, "L2 decay of the parameters"));
  CLI::Option* beta = keep(command->add_option(
      "--beta", l.beta, "Inverse temperature of the board (rounded to its beta step)"));
  keep(command->add_option("--beta-schedule", o.beta_schedule,
                           "Beta per sweep of each step, burn-in included: 'b0,b1,...' (the "
                           "last holds) or 'FROM:TO:SWEEPS' (linear anneal)"))
      ->excludes(beta);
  keep(command
           ->add_option("--rounding", l.rounding,
                        "Weights to board codes each step: nearest or stochastic (unbiased over "
                        "steps)")
           ->transform(CLI::CheckedTransformer(
               std::map<std::string, runtime::Rounding>{
                   {"nearest", runtime::Rounding::kNearest},
                   {"stochastic", runtime::Rounding::kStochastic}},
               CLI::ignore_case)))
      ->default_str("nearest");
  keep(command->add_option("--seed", l.seed,
                           "Seed of the initial weights, minibatch order and stochastic "
                           "rounding"));
  keep(add_timeout_option(*command, o.common, runtime::BoltzmannOptions{}.timeout,
                          "each training step"));
  for (CLI::Option* option : model_options)
    option->excludes(resume);
  add_json_flag(*command, o.common,
                "\"settings\", \"data\", \"model\", \"steps\" (step, learning_rate, "
                "gradient_norm, moment_mismatch, ...), \"summary\", \"energy\", \"checkpoint\"");
  command->footer(addresses_footer(
      "The model: the data's columns are the visible nodes; they and --hidden latent nodes sit "
      "in the lattice's top-left corner, visible and hidden on the two checkerboard colours (an "
      "RBM where the counts allow), every lattice edge between them trained. The board runs "
      "--batch clamped copies and --free-copies free copies of it side by side: the region times "
      "(batch + free copies) must fit the lattice.\n\n"));
  return {command, [options] { return train(*options); }};
}

}  // namespace kelvin::tools::cli
