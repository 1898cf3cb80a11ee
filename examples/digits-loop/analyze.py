#!/usr/bin/env python3
"""Scores flat keep and ECV against the many-seed truth of a finished loop.

    analyze.py OUT [OUT ...] [--pool FILE.md]
    analyze.py --versus FILE.md OBEY1,OBEY2,... FLAT1,FLAT2,...   (obey-mode loops next to flat keep)

Reads OUT/results.tsv, OUT/gates.jsonl (the loop's gate calls), OUT/final.json (collect.py)
and OUT/truth.json (evaluate.py); writes OUT/summary.json, OUT/summary.md and OUT/chain.svg.
With several loops, also the pooled counts (to FILE.md and FILE.json with --pool).
Standard library only.

Definitions (docs/validation.md):
- the premise of a keep is the previous keep (its parent commit on the branch);
- with the evaluation seeds s common to keep X and its premise P, d_s = acc_X(s) − acc_P(s),
  Δ = mean(d), SE = sd(d)/√n (paired: both ran with the same seeds);
- X is a REAL improvement when Δ > SE; clearly real when Δ > 2·SE; harmful when Δ < −SE;
  worth building on (≥ 1σ) when real and Δ ≥ σ, σ the pooled seed-to-seed sd of one run;
- a method ACCEPTS a keep when it would build on it: flat keep always; ECV when its gate
  answered `accept` (at the time: the loop's call; at the end: read-only after the loop's
  reproductions; settled: after keeps still at `reanchor` were gated again);
- contamination = accepted keeps that are not real / accepted keeps; lost = real keeps not
  accepted.
"""

import html
import json
import math
import os
import sys


def mean(xs):
    return sum(xs) / len(xs)


def sd(xs):
    m = mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else float("nan")


def auroc(scores, labels):
    """P(score of a random positive > score of a random negative), ties count 1/2."""
    pos = [s for s, l in zip(scores, labels) if l and s is not None]
    neg = [s for s, l in zip(scores, labels) if not l and s is not None]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def load(out):
    with open(os.path.join(out, "results.tsv")) as f:
        lines = [l.rstrip("\n").split("\t") for l in f.readlines()[1:] if l.strip()]
    rows = [{"i": i, "commit": r[0], "value": float(r[1]), "status": r[3], "desc": r[4] if len(r) > 4 else ""} for i, r in enumerate(lines)]
    gates = {}
    with open(os.path.join(out, "gates.jsonl")) as f:
        for l in f:
            if l.strip():
                g = json.loads(l)
                gates[g["commit"]] = g
    with open(os.path.join(out, "final.json")) as f:
        final = json.load(f)
    with open(os.path.join(out, "truth.json")) as f:
        truth = json.load(f)
    return rows, gates, final, truth


def paired(vx, vp):
    d = [x - p for x, p in zip(vx, vp) if x is not None and p is not None]
    if len(d) < 2:
        return None
    return {"n": len(d), "delta": mean(d), "se": sd(d) / math.sqrt(len(d))}


def analyze(out):
    rows, gates, final, truth = load(out)
    vals = truth["values"]
    exps = {e["key"]: e for e in final["experiments"]}
    keeps = [r for r in rows if r["status"] == "keep"]
    meta_path = os.path.join(out, "meta.json")
    meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}
    ecv_mode_obey = meta.get("mode") == "obey"
    # Seed noise: pooled within-commit sd over the keeps' evaluation runs.
    ss = df = 0
    for r in keeps:
        v = [x for x in vals.get(r["commit"], []) if x is not None]
        if len(v) > 1:
            m = mean(v)
            ss += sum((x - m) ** 2 for x in v)
            df += len(v) - 1
    sigma = math.sqrt(ss / df) if df else float("nan")

    chain = []
    for j, r in enumerate(keeps):
        v = [x for x in vals.get(r["commit"], []) if x is not None]
        e = exps.get(r["commit"], {})
        g = gates.get(r["commit"], {})
        item = {
            "n": j, "index": r["i"], "commit": r["commit"], "desc": r["desc"], "claimed": r["value"],
            "trueMean": mean(v) if v else None, "trueSd": sd(v) if len(v) > 1 else None, "seeds": len(v),
            "failedRuns": len(vals.get(r["commit"], [])) - len(v),
            "reproductions": [x["value"] for x in e.get("reproductions", [])],
            "atTime": g.get("decision"), "Ctime": g.get("C"), "Ktime": g.get("K"),
            "atEnd": final["gateAtEnd"].get(r["commit"], {}).get("decision"),
            "settled": final["gateSettled"].get(r["commit"], {}).get("decision"),
            "C": (e.get("confidence") or {}).get("value"), "K": e.get("compounded"), "anchored": e.get("anchored"),
            "premises": e.get("premises"),
        }
        if j > 0:
            # The premise is the previous keep (flat keep's chain); in obey mode, where rejected
            # keeps were reset, it is ECV's git-lineage premise (the commit's parent keep).
            by_commit = {k["commit"]: k for k in keeps[:j]}
            ecv_premise = (e.get("premises") or [None])[0]
            p = by_commit[ecv_premise] if ecv_mode_obey and ecv_premise in by_commit else keeps[j - 1]
            item["premise"] = p["commit"]
            item["claimedDelta"] = r["value"] - p["value"]
            t = paired(vals.get(r["commit"], []), vals.get(p["commit"], []))
            if t:
                item.update(trueDelta=t["delta"], se=t["se"], real=t["delta"] > t["se"], clearlyReal=t["delta"] > 2 * t["se"],
                            harmful=t["delta"] < -t["se"], big=t["delta"] > t["se"] and t["delta"] >= sigma)
            item["premiseMatchesEcv"] = item["premise"] in (e.get("premises") or [])
        chain.append(item)

    threshold = final["project"].get("threshold", 0.6)
    for c in chain:
        c["hardGate"] = (exps.get(c["commit"], {}) or {}).get("hardGate")
    scored = [c for c in chain if "real" in c]
    n_real = sum(c["real"] for c in scored)
    n_big = sum(c["big"] for c in scored)
    methods = {
        "flat": lambda c: True,
        "ecvAtTime": lambda c: c["atTime"] == "accept",
        "ecvAtEnd": lambda c: c["atEnd"] == "accept",
        "ecvSettled": lambda c: c["settled"] == "accept",
        # Diagnostic, not a gate: the experiment's own C (settled) at the threshold, no compounding.
        "ownC": lambda c: c["C"] is not None and c["C"] >= threshold and not c.get("hardGate"),
    }
    table = {}
    for name, acc in methods.items():
        a = [c for c in scored if acc(c)]
        ra = sum(c["real"] for c in a)
        table[name] = {
            "accepted": len(a), "realAccepted": ra, "falseAccepted": len(a) - ra,
            "harmfulAccepted": sum(c["harmful"] for c in a),
            "contamination": (len(a) - ra) / len(a) if a else None,
            "realKept": ra / n_real if n_real else None, "lostReal": n_real - ra,
            "bigKept": sum(c["big"] for c in a) / n_big if n_big else None,
            "clearlyRealLost": sum(c["clearlyReal"] for c in scored) - sum(c["clearlyReal"] for c in a),
        }
    decisions = {}
    for k in ("atTime", "atEnd", "settled"):
        d = {}
        for c in chain:
            d[c[k]] = d.get(c[k], 0) + 1
        decisions[k] = d

    # Flat keep's own lost improvements: discards that were real (when evaluate.py ran them).
    discard_eval = []
    last_keep = None
    for r in rows:
        if r["status"] == "keep":
            last_keep = r
        elif r["status"] == "discard" and last_keep and vals.get(r["commit"]):
            t = paired(vals[r["commit"]], vals.get(last_keep["commit"], []))
            if t:
                discard_eval.append({"commit": r["commit"], "trueDelta": t["delta"], "se": t["se"], "n": t["n"], "real": t["delta"] > t["se"],
                                     "clearlyReal": t["delta"] > 2 * t["se"], "big": t["delta"] > 2 * t["se"] and t["delta"] >= sigma, "desc": r["desc"]})

    reps = [x for e in final["experiments"] for x in e.get("reproductions", [])]
    rep_by_exp = sum(1 for e in final["experiments"] if e.get("reproductions"))
    summary = {
        "experiments": len(rows),
        "statuses": {s: sum(r["status"] == s for r in rows) for s in ("keep", "discard", "crash")},
        "keeps": len(keeps), "scoredKeeps": len(scored), "realKeeps": n_real, "bigKeeps": n_big,
        "clearlyRealKeeps": sum(c["clearlyReal"] for c in scored), "harmfulKeeps": sum(c["harmful"] for c in scored),
        "sigmaSeed": sigma, "evalSeeds": max((c["seeds"] for c in chain), default=0),
        "meanClaimedDelta": mean([c["claimedDelta"] for c in scored]) if scored else None,
        "meanTrueDelta": mean([c["trueDelta"] for c in scored]) if scored else None,
        "methods": table, "decisions": decisions,
        "auroc": {
            "Ctime": auroc([c["Ctime"] for c in scored], [c["real"] for c in scored]),
            "Csettled": auroc([c["C"] for c in scored], [c["real"] for c in scored]),
            "Ksettled": auroc([c["K"] for c in scored], [c["real"] for c in scored]),
            "claimedDelta": auroc([c["claimedDelta"] for c in scored], [c["real"] for c in scored]),
        },
        "reproductions": {
            "total": len(reps), "atEndOfLoop": final.get("reproductionsAtEnd"), "failed": sum(1 for x in reps if x.get("value") is None),
            "experimentsReproduced": rep_by_exp, "perExperiment": len(reps) / len(rows) if rows else None,
            "runnerSeconds": sum(x.get("durationS") or 0 for x in reps),
        },
        "anchors": sum(1 for e in final["experiments"] if e.get("anchored")),
        "premisesAgree": all(c.get("premiseMatchesEcv", True) for c in chain),
        "root": {"commit": chain[0]["commit"], "trueMean": chain[0]["trueMean"], "claimed": chain[0]["claimed"]} if chain else None,
        "head": {"commit": chain[-1]["commit"], "trueMean": chain[-1]["trueMean"], "claimed": chain[-1]["claimed"]} if chain else None,
        "discards": {"evaluated": len(discard_eval), "real": sum(d["real"] for d in discard_eval),
                     "clearlyReal": sum(d["clearlyReal"] for d in discard_eval), "bigClearlyReal": sum(d["big"] for d in discard_eval),
                     "seeds": min((d["n"] for d in discard_eval), default=0)},
        "chain": chain,
        "discardTruth": discard_eval,
    }
    # The last keep ECV accepts (settled) with everything before it: where a loop obeying the gate
    # would at most have stood (it would also have explored differently from there on).
    acc_idx = [c["n"] for c in chain if c["settled"] == "accept"]
    summary["lastSettledAccept"] = chain[acc_idx[-1]] if acc_idx else None
    return summary


def analyze_obey(out, sigma=None):
    """An obey-mode loop (loop.py --mode obey) against the truth: what the loop built on.

    Every gated keep (gates.jsonl, the loop's final answer after its --wait calls) is judged
    against its premise, the accepted head it was committed on (paired Δ, SE over the common
    evaluation seeds). Accepted = the loop built on it. Returns the figures of issue 15 §6 /
    issue 16 item 6: the true accuracy of the head the loop ends on, contamination among accepted
    keeps, ≥ 1σ keeps accepted, reproductions per experiment, wall time.
    """
    with open(os.path.join(out, "truth.json")) as f:
        vals = json.load(f)["values"]
    with open(os.path.join(out, "gates.jsonl")) as f:
        gates = [json.loads(l) for l in f if l.strip()]
    exps = []
    if os.path.exists(os.path.join(out, "experiments.jsonl")):
        with open(os.path.join(out, "experiments.jsonl")) as f:
            exps = [json.loads(l) for l in f if l.strip()]
    with open(os.path.join(out, "final.json")) as f:
        final = json.load(f)
    meta = json.load(open(os.path.join(out, "meta.json"))) if os.path.exists(os.path.join(out, "meta.json")) else {}
    ok = lambda c: [x for x in vals.get(c, []) if x is not None]
    if sigma is None:  # pooled seed-to-seed sd of one run over the gated commits
        ss = df = 0
        for g in gates:
            v = ok(g["commit"])
            if len(v) > 1:
                m = mean(v)
                ss += sum((x - m) ** 2 for x in v)
                df += len(v) - 1
        sigma = math.sqrt(ss / df) if df else float("nan")
    keeps = []
    for g in gates:
        if g.get("premise") is None:  # the baseline: a root, claims no improvement
            continue
        t = paired(vals.get(g["commit"], []), vals.get(g["premise"], []))
        k = {"index": g["index"], "commit": g["commit"], "premise": g["premise"], "decision": g["decision"],
             "gateCalls": g.get("gate_calls"), "jobs": len(g.get("jobs", []))}
        if t:
            k.update(trueDelta=t["delta"], se=t["se"], real=t["delta"] > t["se"], harmful=t["delta"] < -t["se"],
                     big=t["delta"] > t["se"] and t["delta"] >= sigma)
        keeps.append(k)
    scored = [k for k in keeps if "real" in k]
    acc = [k for k in scored if k["decision"] == "accept"]
    big = [k for k in scored if k["big"]]
    accepted_commits = [g["commit"] for g in gates if g["decision"] == "accept"]
    head = meta.get("head") or (accepted_commits[-1] if accepted_commits else None)
    hv = ok(head) if head else []
    base = gates[0]["commit"] if gates and gates[0].get("premise") is None else None
    reps = [x for e in final["experiments"] for x in e.get("reproductions", [])]
    n = len(exps) or len(final["experiments"])
    return {
        "experiments": n, "gatedKeeps": len(keeps), "scoredKeeps": len(scored),
        "decisions": {d: sum(k["decision"] == d for k in keeps) for d in ("accept", "reject", "reanchor", "error")},
        "accepted": len(acc), "realAccepted": sum(k["real"] for k in acc), "harmfulAccepted": sum(k["harmful"] for k in acc),
        "contamination": (len(acc) - sum(k["real"] for k in acc)) / len(acc) if acc else None,
        "bigKeeps": len(big), "bigAccepted": sum(k["decision"] == "accept" for k in big),
        "bigKept": sum(k["decision"] == "accept" for k in big) / len(big) if big else None,
        "sigmaSeed": sigma,
        "head": {"commit": head, "trueMean": mean(hv) if hv else None, "seeds": len(hv)},
        "baseline": {"commit": base, "trueMean": mean(ok(base)) if base and ok(base) else None},
        "reproductions": len(reps), "perExperiment": len(reps) / n if n else None,
        "ingestErrors": sum((e.get("ingestExit") or 0) != 0 or (e.get("reingestExit") or 0) != 0 for e in exps),
        "barErrors": sum("barError" in e for e in exps),
        "seconds": {"loop": meta.get("loopSeconds"), "drain": meta.get("drainSeconds")},
        "keeps": keeps,
    }


def flat_figures(s, meta):
    """Flat keep's row of the obey-vs-flat table, from a shadow-mode loop's summary."""
    f = s["methods"]["flat"]
    return {"head": (s.get("head") or {}).get("trueMean"), "contamination": f["contamination"], "accepted": f["accepted"],
            "realAccepted": f["realAccepted"], "bigKept": f["bigKept"], "bigKeeps": s["bigKeeps"], "perExperiment": 0.0,
            "experiments": s["experiments"], "seconds": meta.get("loopSeconds")}


def versus_markdown(obey, flat, labels):
    """Obey mode next to flat keep, loop by loop and pooled (issue 16 item 6)."""
    acc = lambda x: "–" if x is None else "%.1f %%" % (100 * x)
    L = ["| proposer seed | flat keep: head true acc. | obey: head true acc. | flat: contamination (accepted) | obey: contamination (accepted) "
         "| obey: ≥ 1σ keeps accepted | obey: reproductions / experiment | obey: decisions a/r/re/error | wall time flat / obey (s) |",
         "|---|---|---|---|---|---|---|---|---|"]
    for lab, o, f in zip(labels, obey, flat):
        d = o["decisions"]
        L.append("| %s | %s | %s | %s (%d) | %s (%d) | %s (%d of %d) | %.2f | %d / %d / %d / %d | %s / %s |" % (
            lab, acc(f and f["head"]), acc(o["head"]["trueMean"]), pct(f and f["contamination"]), f["accepted"] if f else 0,
            pct(o["contamination"]), o["accepted"], pct(o["bigKept"]), o["bigAccepted"], o["bigKeeps"], o["perExperiment"] or 0,
            d["accept"], d["reject"], d["reanchor"], d["error"], f and f["seconds"], (o["seconds"]["loop"] or 0) + (o["seconds"]["drain"] or 0)))
    acc_o = sum(o["accepted"] for o in obey)
    real_o = sum(o["realAccepted"] for o in obey)
    big_o, bigk_o = sum(o["bigAccepted"] for o in obey), sum(o["bigKeeps"] for o in obey)
    acc_f = sum(f["accepted"] for f in flat if f)
    real_f = sum(f["realAccepted"] for f in flat if f)
    n_o = sum(o["experiments"] for o in obey)
    L.append("| pooled | mean %s | mean %s | %s (%d) | %s (%d) | %s (%d of %d) | %.2f | | |" % (
        acc(mean([f["head"] for f in flat if f and f["head"] is not None]) if any(f and f["head"] is not None for f in flat) else None),
        acc(mean([o["head"]["trueMean"] for o in obey if o["head"]["trueMean"] is not None]) if any(o["head"]["trueMean"] is not None for o in obey) else None),
        pct((acc_f - real_f) / acc_f if acc_f else None), acc_f, pct((acc_o - real_o) / acc_o if acc_o else None), acc_o,
        pct(big_o / bigk_o if bigk_o else None), big_o, bigk_o, sum(o["reproductions"] for o in obey) / n_o if n_o else 0))
    return "\n".join(L) + "\n"


def pct(x):
    return "–" if x is None else "%.0f %%" % (100 * x)


def markdown(s):
    m = s["methods"]
    L = []
    L.append("| | flat keep | ECV at the time | ECV at the end | ECV settled | own C ≥ threshold (diagnostic) |")
    L.append("|---|---|---|---|---|---|")
    keys = ["flat", "ecvAtTime", "ecvAtEnd", "ecvSettled", "ownC"]
    L.append("| keeps accepted (of %d) | %s |" % (s["scoredKeeps"], " | ".join(str(m[k]["accepted"]) for k in keys)))
    L.append("| of them real (Δ > SE) | %s |" % " | ".join(str(m[k]["realAccepted"]) for k in keys))
    L.append("| of them not real | %s |" % " | ".join(str(m[k]["falseAccepted"]) for k in keys))
    L.append("| of them harmful (Δ < −SE) | %s |" % " | ".join(str(m[k]["harmfulAccepted"]) for k in keys))
    L.append("| contamination | %s |" % " | ".join(pct(m[k]["contamination"]) for k in keys))
    L.append("| real keeps accepted (of %d) | %s |" % (s["realKeeps"], " | ".join(pct(m[k]["realKept"]) for k in keys)))
    L.append("| real keeps lost | %s |" % " | ".join(str(m[k]["lostReal"]) for k in keys))
    L.append("| ≥ 1σ keeps accepted (of %d) | %s |" % (s["bigKeeps"], " | ".join(pct(m[k]["bigKept"]) for k in keys)))
    L.append("")
    L.append("| keep | commit | description | claimed | 20-seed mean | Δ ± SE vs premise | real | C / K (settled) | at the time | at the end | settled |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for c in s["chain"]:
        L.append("| %d | `%s` | %s | %.4f | %s | %s | %s | %s | %s | %s | %s |" % (
            c["n"], c["commit"], c["desc"].replace("|", "\\|"), c["claimed"],
            "%.4f" % c["trueMean"] if c["trueMean"] is not None else "–",
            "%+.4f ± %.4f" % (c["trueDelta"], c["se"]) if "trueDelta" in c else "root",
            ("yes" if c["real"] else ("harmful" if c["harmful"] else "no")) if "real" in c else "–",
            "%.2f / %.2f" % (c["C"], c["K"]) if c["C"] is not None and c["K"] is not None else "–",
            c["atTime"], c["atEnd"], c["settled"]))
    return "\n".join(L) + "\n"


def esc(text):
    return html.escape(str(text), quote=True)


COLORS = {"accept": "#1a9850", "reanchor": "#f39c12", "reject": "#d73027", None: "#999999", "error": "#555555"}


def svg(s):
    """The main chain: claimed (seed 0) vs 20-seed mean ± 2 SE, ECV's reproductions, decisions."""
    ch = s["chain"]
    W, H, L, R, T, B = 1000, 560, 130, 20, 40, 150
    n = len(ch)
    ys = [c["claimed"] for c in ch] + [c["trueMean"] for c in ch if c["trueMean"] is not None]
    ys += [v for c in ch for v in c["reproductions"] if v is not None]
    ys += [c["trueMean"] + k * 2 * c["trueSd"] / math.sqrt(c["seeds"]) for c in ch if c["trueSd"] is not None for k in (-1, 1)]
    lo, hi = min(ys), max(ys)
    pad = (hi - lo) * 0.06 or 0.01
    lo, hi = lo - pad, hi + pad
    X = lambda j: L + (W - L - R) * (j + 0.5) / max(n, 1)
    Y = lambda v: T + (H - T - B) * (hi - v) / (hi - lo)
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">' % (W, H, W, H),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="%d" y="22" font-size="14" font-weight="bold">digits loop, main chain: claimed vs %d-seed val_accuracy, ECV decisions</text>' % (L, s["evalSeeds"])]
    # y grid
    step = 10 ** math.floor(math.log10((hi - lo) / 5))
    for m in (1, 2, 5):
        if (hi - lo) / (step * m) <= 8:
            step *= m
            break
    v = math.ceil(lo / step) * step
    while v <= hi:
        o.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%.3f</text>' % (L, W - R, Y(v), Y(v), L - 6, Y(v) + 4, v))
        v += step
    o.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#333"/>' % (L, W - R, H - B, H - B))
    o.append('<text transform="translate(%d,%d) rotate(-90)" text-anchor="middle">val_accuracy</text>' % (L - 56, (T + H - B) / 2))
    # lines
    o.append('<polyline fill="none" stroke="#4575b4" stroke-width="1.5" points="%s"/>' % " ".join("%.1f,%.1f" % (X(j), Y(c["claimed"])) for j, c in enumerate(ch)))
    o.append('<polyline fill="none" stroke="#222" stroke-width="1.5" stroke-dasharray="4 3" points="%s"/>' % " ".join("%.1f,%.1f" % (X(j), Y(c["trueMean"])) for j, c in enumerate(ch) if c["trueMean"] is not None))
    for j, c in enumerate(ch):
        x = X(j)
        if c["trueMean"] is not None and c["trueSd"] is not None:
            se2 = 2 * c["trueSd"] / math.sqrt(c["seeds"])
            o.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#222"/>' % (x, x, Y(c["trueMean"] - se2), Y(c["trueMean"] + se2)))
            o.append('<rect x="%.1f" y="%.1f" width="6" height="6" fill="#222"><title>%s: %d-seed mean %.4f</title></rect>' % (x - 3, Y(c["trueMean"]) - 3, c["commit"], c["seeds"], c["trueMean"]))
        for rv in c["reproductions"]:
            if rv is not None:
                o.append('<circle cx="%.1f" cy="%.1f" r="2" fill="%s" opacity="0.7"/>' % (x + 5, Y(rv), "#8e44ad"))
        col = COLORS.get(c["settled"], "#999")
        o.append('<circle cx="%.1f" cy="%.1f" r="5" fill="%s" stroke="#4575b4" stroke-width="1.5"><title>%s %s: claimed %.4f, ECV %s (at the time %s)</title></circle>' % (x, Y(c["claimed"]), col, c["commit"], esc(c["desc"]), c["claimed"], c["settled"], c["atTime"]))
        # strips under the axis: truth, ECV at the time, ECV settled
        if "real" in c:
            t = "#1a9850" if c["real"] else ("#d73027" if c["harmful"] else "#bbbbbb")
            o.append('<rect x="%.1f" y="%d" width="%.1f" height="12" fill="%s"/>' % (x - 4, H - B + 40, 8, t))
        o.append('<rect x="%.1f" y="%d" width="%.1f" height="12" fill="%s"/>' % (x - 4, H - B + 58, 8, COLORS.get(c["atTime"], "#999")))
        o.append('<rect x="%.1f" y="%d" width="%.1f" height="12" fill="%s"/>' % (x - 4, H - B + 76, 8, COLORS.get(c["settled"], "#999")))
        if n <= 60 or j % 5 == 0:
            o.append('<text x="%.1f" y="%d" text-anchor="middle" font-size="9">%d</text>' % (x, H - B + 14, j))
    o.append('<text x="%d" y="%d" text-anchor="middle">keep number on the main chain (0 = baseline)</text>' % ((L + W - R) / 2, H - B + 30))
    for k, (label, y) in enumerate([("truth (%d seeds)" % s["evalSeeds"], H - B + 50), ("ECV at the time", H - B + 68), ("ECV settled", H - B + 86)]):
        o.append('<text x="%d" y="%d" text-anchor="end" font-size="10">%s</text>' % (L - 6, y, esc(label)))
    ly = H - 40
    items = [("circle", "#4575b4", "claimed (loop's seed-0 run); fill = ECV settled decision"), ("rect", "#222", "%d-seed mean ± 2 SE" % s["evalSeeds"]),
             ("dot", "#8e44ad", "ECV reproductions (seeds 1-3)")]
    x0 = L
    for kind, col, label in items:
        if kind == "circle":
            o.append('<circle cx="%d" cy="%d" r="5" fill="white" stroke="%s" stroke-width="1.5"/>' % (x0, ly, col))
        elif kind == "rect":
            o.append('<rect x="%d" y="%d" width="6" height="6" fill="%s"/>' % (x0 - 3, ly - 3, col))
        else:
            o.append('<circle cx="%d" cy="%d" r="2.5" fill="%s"/>' % (x0, ly, col))
        o.append('<text x="%d" y="%d">%s</text>' % (x0 + 10, ly + 4, esc(label)))
        x0 += 60 + 6 * len(label)
    ly += 20
    x0 = L
    for col, label in [("#1a9850", "accept / real (Δ > SE)"), ("#f39c12", "reanchor"), ("#d73027", "reject / harmful (Δ < −SE)"), ("#bbbbbb", "not real")]:
        o.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>' % (x0, ly - 5, col, x0 + 14, ly + 4, esc(label)))
        x0 += 40 + 6 * len(label)
    o.append("</svg>")
    return "\n".join(o) + "\n"


def pooled(summaries):
    """Sums the per-loop counts (each loop judged against its own truth) into one table."""
    keys = ["flat", "ecvAtTime", "ecvAtEnd", "ecvSettled", "ownC"]
    tot = {k: {"accepted": 0, "realAccepted": 0, "falseAccepted": 0, "harmfulAccepted": 0, "bigAccepted": 0} for k in keys}
    base = {"experiments": 0, "keeps": 0, "scoredKeeps": 0, "realKeeps": 0, "bigKeeps": 0, "harmfulKeeps": 0,
            "reproductions": 0, "runnerSeconds": 0.0, "discardsEvaluated": 0, "discardsReal": 0,
            "discardsClearlyReal": 0, "discardsBig": 0, "clearlyRealKeeps": 0}
    for s in summaries:
        for k in ("experiments", "keeps", "scoredKeeps", "realKeeps", "bigKeeps", "harmfulKeeps"):
            base[k] += s[k]
        base["reproductions"] += s["reproductions"]["total"]
        base["runnerSeconds"] += s["reproductions"]["runnerSeconds"]
        base["discardsEvaluated"] += s["discards"]["evaluated"]
        base["discardsReal"] += s["discards"]["real"]
        base["discardsClearlyReal"] += s["discards"]["clearlyReal"]
        base["discardsBig"] += s["discards"]["bigClearlyReal"]
        base["clearlyRealKeeps"] += s["clearlyRealKeeps"]
        for k in keys:
            for f in ("accepted", "realAccepted", "falseAccepted", "harmfulAccepted"):
                tot[k][f] += s["methods"][k][f]
            tot[k]["bigAccepted"] += round((s["methods"][k]["bigKept"] or 0) * s["bigKeeps"])
    for k in keys:
        t = tot[k]
        t["contamination"] = t["falseAccepted"] / t["accepted"] if t["accepted"] else None
        t["realKept"] = t["realAccepted"] / base["realKeeps"] if base["realKeeps"] else None
        t["lostReal"] = base["realKeeps"] - t["realAccepted"]
        t["bigKept"] = t["bigAccepted"] / base["bigKeeps"] if base["bigKeeps"] else None
    base["methods"] = tot
    base["perExperiment"] = base["reproductions"] / base["experiments"] if base["experiments"] else None
    return base


def pooled_markdown(p):
    m = p["methods"]
    keys = ["flat", "ecvAtTime", "ecvAtEnd", "ecvSettled", "ownC"]
    L = ["| pooled over loops | flat keep | ECV at the time | ECV at the end | ECV settled | own C ≥ threshold (diagnostic) |",
         "|---|---|---|---|---|---|",
         "| keeps accepted (of %d) | %s |" % (p["scoredKeeps"], " | ".join(str(m[k]["accepted"]) for k in keys)),
         "| of them real (Δ > SE) | %s |" % " | ".join(str(m[k]["realAccepted"]) for k in keys),
         "| of them not real | %s |" % " | ".join(str(m[k]["falseAccepted"]) for k in keys),
         "| of them harmful (Δ < −SE) | %s |" % " | ".join(str(m[k]["harmfulAccepted"]) for k in keys),
         "| contamination | %s |" % " | ".join(pct(m[k]["contamination"]) for k in keys),
         "| real keeps accepted (of %d) | %s |" % (p["realKeeps"], " | ".join(pct(m[k]["realKept"]) for k in keys)),
         "| real keeps lost | %s |" % " | ".join(str(m[k]["lostReal"]) for k in keys),
         "| ≥ 1σ keeps accepted (of %d) | %s |" % (p["bigKeeps"], " | ".join(pct(m[k]["bigKept"]) for k in keys))]
    return "\n".join(L) + "\n"


def main():
    args = sys.argv[1:]
    pool_out = None
    if "--versus" in args:
        # analyze.py --versus OUT.md OBEY1,OBEY2,OBEY3 FLAT1,FLAT2,FLAT3 (same proposer seeds, in order)
        i = args.index("--versus")
        out_md, obey_dirs, flat_dirs = args[i + 1], args[i + 2].split(","), args[i + 3].split(",")
        obey = [analyze_obey(os.path.abspath(d)) for d in obey_dirs]
        flat = []
        for d in flat_dirs:
            d = os.path.abspath(d)
            meta = json.load(open(os.path.join(d, "meta.json"))) if os.path.exists(os.path.join(d, "meta.json")) else {}
            flat.append(flat_figures(analyze(d), meta))
        labels = [str(json.load(open(os.path.join(d, "meta.json"))).get("proposerSeed", j + 1)) if os.path.exists(os.path.join(d, "meta.json")) else str(j + 1)
                  for j, d in enumerate(obey_dirs)]
        text = versus_markdown(obey, flat, labels)
        print(text)
        with open(out_md, "w") as f:
            f.write(text)
        with open(os.path.splitext(out_md)[0] + ".json", "w") as f:
            json.dump({"obey": obey, "flat": flat, "seeds": labels}, f, indent=1)
        return 0
    if "--pool" in args:
        i = args.index("--pool")
        pool_out = args[i + 1]
        del args[i : i + 2]
    if not args:
        sys.exit("usage: analyze.py OUT [OUT ...] [--pool FILE.md]")
    summaries = []
    for out in args:
        out = os.path.abspath(out)
        print("== %s" % out)
        summaries.append(analyze_one(out))
    if len(summaries) > 1 or pool_out:
        p = pooled(summaries)
        text = pooled_markdown(p)
        print(text)
        print("pooled: %d experiments, %d keeps (%d scored, %d real, %d clearly real, %d ≥1σ), %d reproductions (%.2f per experiment, %.0f runner-s), "
              "discards evaluated %d (Δ > SE %d, Δ > 2 SE %d, of them ≥ 1σ %d)" % (
            p["experiments"], p["keeps"], p["scoredKeeps"], p["realKeeps"], p["clearlyRealKeeps"], p["bigKeeps"], p["reproductions"], p["perExperiment"] or 0,
            p["runnerSeconds"], p["discardsEvaluated"], p["discardsReal"], p["discardsClearlyReal"], p["discardsBig"]))
        if pool_out:
            with open(pool_out, "w") as f:
                f.write(text)
            with open(os.path.splitext(pool_out)[0] + ".json", "w") as f:
                json.dump(p, f, indent=1)
    return 0


def analyze_one(out):
    s = analyze(out)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(s, f, indent=1)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(markdown(s))
    with open(os.path.join(out, "chain.svg"), "w") as f:
        f.write(svg(s))
    m = s["methods"]
    print("experiments %d %s; keeps %d (%d scored): real %d, ≥1σ %d, harmful %d; σ_seed %.4f" % (
        s["experiments"], s["statuses"], s["keeps"], s["scoredKeeps"], s["realKeeps"], s["bigKeeps"], s["harmfulKeeps"], s["sigmaSeed"]))
    for k in ("flat", "ecvAtTime", "ecvAtEnd", "ecvSettled", "ownC"):
        t = m[k]
        print("%-11s accepted %3d  real %3d  false %3d  contamination %s  real kept %s  lost %d  ≥1σ kept %s" % (
            k, t["accepted"], t["realAccepted"], t["falseAccepted"], pct(t["contamination"]), pct(t["realKept"]), t["lostReal"], pct(t["bigKept"])))
    r = s["reproductions"]
    print("reproductions %d (%d by the loop's gate calls, %d failed) = %.2f per experiment, %.0f runner-seconds; anchors %d; AUROC %s" % (
        r["total"], r["atEndOfLoop"] or 0, r["failed"], r["perExperiment"] or 0, r["runnerSeconds"], s["anchors"],
        {k: (round(v, 3) if v is not None else None) for k, v in s["auroc"].items()}))
    print("wrote %s/summary.md, summary.json, chain.svg" % out)
    return s


if __name__ == "__main__":
    sys.exit(main())
