"""Question understanding: accuracy per question type on public templates and paraphrases.

    python benchmarks/bench_questions.py --seeds 0 1 2

For each seed a small noise-free recording is simulated (96 frames, 160x120, rendered only for
visibility) and its ground truth becomes the memory (test/planning/corpus.py), so every miss is a
reading error, not a perception error. Three question sets are filled from the scene's ground truth:

- public: VSI-Bench and VSTI-Bench templates verbatim (test/planning/data/public_templates.json),
  VSTI's "frame k of N" on its np.linspace frame sampling;
- tuning / held_out: the two halves, test/planning/data/paraphrases_tuning.yaml and paraphrases_held_out.yaml.

Per type and set: correct (option exact, number within 5 %), silent wrong (ok true and wrong) and
refused (ok false). Then the VSI score (VSI-Bench MRA / exact match) over a random mix of all
phrasings per seed, and answer latency (rule planner, no language model, one torch thread) p50 /
p99 in ms, wall clock and process CPU time (less disturbed by other work on a shared machine), over
every question of the run, answered once more after a first untimed pass (warm, as a running node).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "test" / "planning"))

from corpus import Case, Filler, ground_truth_memory, recording  # noqa: E402

from reasmory_ros.planning import RuleBasedPlanner, answer_question  # noqa: E402
from reasmory_ros.replay.evaluate import score_answer  # noqa: E402

SETS = ("public", "tuning", "held_out")


def cases_of(filler: Filler, which: str) -> list[Case]:
    return filler.public_cases() if which == "public" else filler.paraphrase_cases(which)


def outcome(case: Case, result) -> str:
    if not result.ok:
        return "refused"
    return "correct" if case.correct(result.answer) else "silent"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="simulator scenes (default 0 1 2)")
    parser.add_argument("--frames", type=int, default=96, help="frames per recording (default 96)")
    parser.add_argument("--mix", type=int, default=60, help="questions in each seed's random phrasing mix (60)")
    parser.add_argument("--show", choices=SETS, nargs="*", default=[],
                        help="print the wrong answers of these sets (never use held_out while tuning)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rules = RuleBasedPlanner()
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    latencies: list[tuple[float, float]] = []
    vsi_scores = []
    for seed in args.seeds:
        gt = recording(seed, args.frames)
        memory = ground_truth_memory(gt)
        filler = Filler(gt, seed=seed)
        mix_pool = []
        for which in SETS:
            cases = cases_of(filler, which)
            for case in tqdm(cases, desc=f"seed {seed} {which}", unit="question", leave=False):
                result = answer_question(case.question, case.options, memory, rules=rules)
                kind = outcome(case, result)
                counts[(which, case.type)][kind] += 1
                counts[(which, case.type)]["n"] += 1
                if which in args.show and kind != "correct":
                    print(f"[{which} {case.type}] {case.question!r} truth={case.answer!r} got={result.answer!r} "
                          f"error={(result.error or '')[:200]!r}\n    {result.program!r}")
                tick, cpu = time.perf_counter(), time.process_time()
                answer_question(case.question, case.options, memory, rules=rules)
                latencies.append(((time.perf_counter() - tick) * 1e3, (time.process_time() - cpu) * 1e3))
                mix_pool.append(case)
        rng = np.random.default_rng(seed)
        mix = [mix_pool[int(i)] for i in rng.choice(len(mix_pool), min(args.mix, len(mix_pool)), replace=False)]
        scores = []
        for case in mix:
            result = answer_question(case.question, case.options, memory, rules=rules)
            row = {"answer": case.answer, "options": case.options}
            scores.append(score_answer(row, {"answer": result.answer, "ok": result.ok}))
        vsi_scores.append(float(np.mean(scores)))

    print(f"\nseeds {args.seeds}, {args.frames} frames; correct / silent wrong / refused per type\n")
    types = sorted({t for _, t in counts})
    print("| type | " + " | ".join(SETS) + " |")
    print("| --- |" + " --- |" * len(SETS))
    totals = {which: defaultdict(int) for which in SETS}
    for qtype in types:
        cells = []
        for which in SETS:
            c = counts.get((which, qtype))
            if not c:
                cells.append("-")
                continue
            cells.append(f"{c['correct']}/{c['n']} ({100 * c['correct'] / c['n']:.0f} %), {c['silent']} silent")
            for key in ("n", "correct", "silent", "refused"):
                totals[which][key] += c[key]
        print(f"| {qtype} | " + " | ".join(cells) + " |")
    print("| **all** | " + " | ".join(
        f"**{t['correct']}/{t['n']} ({100 * t['correct'] / t['n']:.1f} %), {t['silent']} silent**" for t in totals.values()
    ) + " |")
    n_all = sum(t["n"] for t in totals.values())
    silent_all = sum(t["silent"] for t in totals.values())
    print(f"\nsilent wrong over all phrasings: {silent_all}/{n_all} = {100 * silent_all / n_all:.2f} %")
    print("VSI score of a random phrasing mix per seed: " + ", ".join(f"{s:.3f}" for s in vsi_scores)
          + f" (mean {np.mean(vsi_scores):.3f})")
    lat = np.asarray(latencies)
    for column, what in ((0, "wall"), (1, "process CPU")):
        print(f"answer latency ({what}, warm, rule planner, 1 thread): p50 {np.percentile(lat[:, column], 50):.1f} ms, "
              f"p99 {np.percentile(lat[:, column], 99):.1f} ms over {len(lat)} questions")


if __name__ == "__main__":
    main()
