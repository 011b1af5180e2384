#!/usr/bin/env python3
"""The table of ci/bench/bench_serve.sh from its runs.jsonl (serve_load's lines): per model and
client count, requests/s and p50/p99 latency of serve ("forge") and of the PyTorch baseline, and
their ratios; of several rounds, the one with the most requests/s. Exits 1 when a run had errors or the two servers disagree on an image's top-1 class
or its probability (beyond 1e-4)."""
import json
import sys

TOLERANCE = 1e-4


def main():
    runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    by_key, problems = {}, []
    for run in runs:
        model, server = run["label"].split()
        key = (model, run["concurrency"], server)
        if run["errors"] or not run["requests"]:
            problems.append(f"{run['label']}, {run['concurrency']} clients: {run['errors']} errors, "
                            f"{run['requests']} answers")
        if key not in by_key or run["requests_per_s"] > by_key[key]["requests_per_s"]:
            by_key[key] = run
    print("| model | clients | forge req/s | forge p50 ms | forge p99 ms | pytorch req/s | pytorch p50 ms "
          "| pytorch p99 ms | req/s forge/pytorch | p50 pytorch/forge | p99 pytorch/forge |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (model, clients, server), ours in sorted(by_key.items()):
        if server != "forge" or (model, clients, "pytorch") not in by_key:
            continue
        theirs = by_key[(model, clients, "pytorch")]
        print(f"| {model} | {clients} | {ours['requests_per_s']:.1f} | {ours['p50_ms']:.0f} | {ours['p99_ms']:.0f} "
              f"| {theirs['requests_per_s']:.1f} | {theirs['p50_ms']:.0f} | {theirs['p99_ms']:.0f} "
              f"| {ours['requests_per_s'] / theirs['requests_per_s']:.2f}x "
              f"| {theirs['p50_ms'] / ours['p50_ms']:.2f}x | {theirs['p99_ms'] / ours['p99_ms']:.2f}x |")
        for image, top in ours["top1"].items():
            other = theirs["top1"].get(image)
            if other is None:
                continue
            (wnid, p), (other_wnid, other_p) = top.split(), other.split()
            if wnid != other_wnid or abs(float(p) - float(other_p)) > TOLERANCE:
                problems.append(f"{model}, image {image}: forge's top-1 {top}, pytorch's {other}")
    print()
    if problems:
        print("PROBLEMS:\n" + "\n".join(problems[:20]))
        sys.exit(1)
    print("Every request answered; both servers gave every image the same top-1 class and probability "
          f"(to {TOLERANCE}).")


if __name__ == "__main__":
    main()
