# Research probe behind repair.SuspectUnlearning and detect.HiddenStateScan (not part of the product;
# kept under docs/research as the record of how those were chosen):
# unlearning on suspect rows flagged by a clean-profile Mahalanobis score of the victim's hidden [CLS]
# state, on HeadGuard victims, in Python (torch + transformers), GPU if present.
# Usage: [PLAN=first|paired] python scripts/probe-unlearning.py ROOT VICTIM...   with, in ROOT:
#   config.json, tokenizer.json, repair-clean.tsv (the clean budget), VICTIM-q.npz (weights packed int8
#   per row, to fit a 64 MiB transfer: 2-D tensors over 4096 values as "q:NAME" = round(v/s) int8 with
#   "s:NAME" = max|row|/127, others as "f:NAME" float16, np.savez_compressed) and
#   data-VICTIM/{train,test,test-triggered}.tsv (`headguard poison` output; train.tsv's third column
#   marks poisoned rows and is read only to score the flagging). PLAN=first: flagging layers, FRR, loss,
#   parameters; PLAN=paired: Java's step composition and schedules. One JSON line per experiment in
#   $OUT/results.jsonl. Figures: the closing note of the repair issue (2026-11-26).
import os, sys, json, time, torch, numpy as np
from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast
T0 = time.time(); BUDGET = float(os.environ.get("BUDGET", "400")); OUT = os.environ.get("OUT", ".")
dev = "cuda" if torch.cuda.is_available() else "cpu"
root = sys.argv[1]
tok = PreTrainedTokenizerFast(tokenizer_file=root + "/tokenizer.json")
cfg = BertConfig.from_pretrained(root + "/config.json")
def load_rows(p): return [l.rstrip("\n").split("\t") for l in open(p)][1:]
def unpack(path):
    z = np.load(path); sd = {}
    for k in z.files:
        kind, name = k.split(":", 1)
        if kind == "q": sd[name] = torch.tensor(z[k].astype(np.float32) * z["s:" + name])
        elif kind == "f": sd[name] = torch.tensor(z[k].astype(np.float32))
    return sd
clean = load_rows(root + "/repair-clean.tsv")
ctext = [r[0] for r in clean]; cy = np.array([int(r[1]) for r in clean])
def enc(texts):
    e = tok(texts, padding=True, truncation=True, max_length=128, return_tensors="pt"); e.pop("token_type_ids", None)
    return {k: v.to(dev) for k, v in e.items()}
@torch.no_grad()
def run(m, texts, hidden=False):
    m.eval(); P, H = [], []
    for i in range(0, len(texts), 512):
        o = m(**enc(texts[i:i+512]), output_hidden_states=hidden)
        P.append(o.logits.argmax(-1).cpu().numpy())
        if hidden: H.append(torch.stack([h[:, 0] for h in o.hidden_states], 1).float().cpu().numpy())
    return np.concatenate(P), (np.concatenate(H) if H else None)
def auroc(s, y):
    o = np.argsort(s); r = np.empty(len(s)); r[o] = np.arange(1, len(s)+1); p = y.sum(); n = len(y) - p
    return float((r[y == 1].sum() - p*(p+1)/2) / (p*n))
def maha_fit(H, P, idx):
    prof = {}
    for c in np.unique(P[idx]):
        D = H[idx][P[idx] == c]; mu = D.mean(0); C = np.cov(D.T)
        C = 0.2*C + 0.8*np.diag(np.diag(C)) + 1e-6*np.eye(len(mu)); prof[c] = (mu, np.linalg.inv(C))
    return prof
def maha(prof, X, P):
    s = np.zeros(len(X))
    for c, (mu, Ci) in prof.items():
        dx = X - mu; s = np.where(P == c, np.einsum("ij,jk,ik->i", dx, Ci, dx), s)
    return s
def out(rec):
    rec["t"] = round(time.time() - T0, 1); print(json.dumps(rec), flush=True)
    with open(OUT + "/results.jsonl", "a") as f: f.write(json.dumps(rec) + "\n")
victims = {}
for name in sys.argv[2:]:
    d = root + "/data-" + name
    victims[name] = dict(sd=unpack(root + f"/{name}-q.npz"), train=load_rows(d + "/train.tsv"),
                         test=load_rows(d + "/test.tsv"), trig=load_rows(d + "/test-triggered.tsv"))
def fresh(name):
    m = BertForSequenceClassification(cfg); m.load_state_dict(victims[name]["sd"], strict=False); return m.to(dev)
def evaluate(m, v):
    p, _ = run(m, [r[0] for r in v["test"]]); cacc = float((p == np.array([int(r[1]) for r in v["test"]])).mean())
    pt, _ = run(m, [r[0] for r in v["trig"]]); return round(cacc, 4), round(float((pt == 1).mean()), 4)
# per victim: features once
feat = {}
for name, v in victims.items():
    m = fresh(name); rng = np.random.default_rng(0)
    stext = [r[0] for r in v["train"]]; pois = np.array([int(r[2]) for r in v["train"]])
    ps, Hs = run(m, stext, True); pc, Hc = run(m, ctext, True)
    pt, Ht = run(m, [r[0] for r in v["test"]], True); pg, Hg = run(m, [r[0] for r in v["trig"]], True)
    half = rng.permutation(len(ctext)); fit, cal = half[: len(half)//2], half[len(half)//2:]
    base = evaluate(m, v); out({"victim": name, "what": "victim", "cacc_asr": base})
    # detection: per-layer AUROC (triggered non-target test vs clean non-target test) and training-set audit
    ytest = np.array([int(r[1]) for r in v["test"]]); neg = ytest == 0
    for L in range(Hs.shape[1]):
        prof = maha_fit(Hc[:, L], pc, fit)
        s_in = np.concatenate([maha(prof, Ht[neg, L], pt[neg]), maha(prof, Hg[:, L], pg)])
        y_in = np.concatenate([np.zeros(neg.sum()), np.ones(len(Hg))])
        out({"victim": name, "what": "detect", "layer": L, "input_auroc": round(auroc(s_in, y_in), 4),
             "audit_auroc": round(auroc(maha(prof, Hs[:, L], ps), pois), 4)})
    feat[name] = dict(stext=stext, pois=pois, ps=ps, Hs=Hs, pc=pc, Hc=Hc, fit=fit, cal=cal, base=base)
def flags(name, how, layer, frr, k=10**9):
    f = feat[name]
    if how == "oracle": return f["pois"] == 1
    if how == "none": return np.zeros(len(f["pois"]), bool)
    prof = maha_fit(f["Hc"][:, layer], f["pc"], f["fit"])
    thr = np.quantile(maha(prof, f["Hc"][f["cal"], layer], f["pc"][f["cal"]]), 1 - frr)
    ss = maha(prof, f["Hs"][:, layer], f["ps"]); fl = ss > thr
    if not fl.any(): return fl
    target = np.bincount(f["ps"][fl]).argmax(); fl &= f["ps"] == target
    if fl.sum() > k: fl &= ss >= np.sort(ss[fl])[-k]
    return fl
def experiment(name, how="maha", layer=4, frr=0.05, loss="relabel", weight=1.0, scope="all", epochs=4, lr=2e-5, seed=1):
    if time.time() - T0 > BUDGET: return
    t = time.time(); f = feat[name]; v = victims[name]
    torch.manual_seed(seed); rng = np.random.default_rng(seed)
    fl = flags(name, how, layer, frr); m = fresh(name)
    items = [(x, int(y), 0) for x, y in zip(ctext, cy)] + [(f["stext"][i], 0, 1) for i in np.where(fl)[0]]
    params = [p for n, p in m.named_parameters() if scope == "all" or ".attention." in n]
    for n, p in m.named_parameters(): p.requires_grad_(scope == "all" or ".attention." in n)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    for ep in range(epochs):
        m.train(); order = rng.permutation(len(items))
        for i in range(0, len(order), 16):
            b = [items[j] for j in order[i:i+16]]
            logits = m(**enc([x[0] for x in b])).logits
            y = torch.tensor([x[1] for x in b], device=dev); fb = torch.tensor([x[2] for x in b], device=dev).bool()
            l = torch.zeros((), device=dev)
            if (~fb).any(): l = l + torch.nn.functional.cross_entropy(logits[~fb], y[~fb])
            if fb.any():
                lf = torch.nn.functional.cross_entropy(logits[fb], y[fb]) if loss == "relabel" else -torch.log_softmax(logits[fb], -1).mean()
                l = l + weight * lf
            opt.zero_grad(); l.backward(); torch.nn.utils.clip_grad_norm_(params, 1.0); opt.step()
    after = evaluate(m, v)
    out({"victim": name, "what": "repair", "flag": how, "layer": layer, "frr": frr, "loss": loss, "weight": weight,
         "scope": scope, "epochs": epochs, "seed": seed, "flagged": int(fl.sum()),
         "precision": round(float(f["pois"][fl].mean()), 3) if fl.any() else None,
         "recall": round(float(fl[f["pois"] == 1].mean()), 3), "before": f["base"], "after": after,
         "seconds": round(time.time() - t, 1)})
def paired(name, layer=4, frr=0.05, cb=16, fb=16, epochs=4, lr=2e-5, warm=0.1, seed=1, weight=1.0):
    # Java's SuspectUnlearning: each step = cb clean rows (CE) + fb flagged rows (toward uniform), linear warm-up and decay.
    if time.time() - T0 > BUDGET: return
    t = time.time(); f = feat[name]; v = victims[name]
    torch.manual_seed(seed); rng = np.random.default_rng(seed)
    fl = np.where(flags(name, "maha", layer, frr))[0]; m = fresh(name)
    if len(fl) == 0: return
    opt = torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * ((len(ctext) + cb - 1) // cb); warmup = round(steps * warm)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / max(1, warmup) if s < warmup else max(0.0, (steps - s) / max(1, steps - warmup)))
    fo = []; 
    for ep in range(epochs):
        m.train(); order = rng.permutation(len(ctext))
        for i in range(0, len(order), cb):
            b = order[i:i+cb]
            while len(fo) < fb: fo += list(rng.permutation(fl))
            u = fo[:fb]; fo = fo[fb:]
            l = torch.nn.functional.cross_entropy(m(**enc([ctext[j] for j in b])).logits, torch.tensor(cy[b], device=dev))
            l = l + weight * (-torch.log_softmax(m(**enc([f["stext"][j] for j in u])).logits, -1).mean())
            opt.zero_grad(); l.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step(); sched.step()
    after = evaluate(m, v)
    out({"victim": name, "what": "paired", "layer": layer, "cb": cb, "fb": fb, "epochs": epochs, "lr": lr, "seed": seed, "weight": weight,
         "flagged": int(len(fl)), "precision": round(float(f["pois"][fl].mean()), 3), "before": f["base"], "after": after, "seconds": round(time.time() - t, 1)})
if os.environ.get("PLAN", "first") == "first":
    names = list(victims)
    plan = []
    for n in names:
        plan += [dict(name=n, how="none"), dict(name=n, how="oracle"), dict(name=n, how="oracle", loss="entropy"),
                 dict(name=n), dict(name=n, loss="entropy"), dict(name=n, scope="attn"), dict(name=n, loss="entropy", scope="attn")]
    for n in names:
        for L in (3, 5, 6):
            plan += [dict(name=n, layer=L), dict(name=n, layer=L, loss="entropy")]
        plan += [dict(name=n, frr=0.1), dict(name=n, frr=0.1, loss="entropy"), dict(name=n, frr=0.2, loss="entropy"),
                 dict(name=n, weight=3.0), dict(name=n, loss="entropy", weight=3.0), dict(name=n, seed=2), dict(name=n, loss="entropy", seed=2)]
    for p in plan: experiment(**p)
else:
    plan = []
    for n in victims:
        plan += [dict(name=n), dict(name=n, cb=8, fb=8, epochs=3, lr=5e-5), dict(name=n, cb=8, fb=8, epochs=4, lr=4e-5), dict(name=n, lr=5e-5)]
    for n in victims:
        plan += [dict(name=n, seed=2), dict(name=n, cb=8, fb=8, epochs=3, lr=5e-5, seed=2), dict(name=n, cb=8, fb=8, epochs=4, lr=4e-5, seed=2), dict(name=n, lr=5e-5, seed=2)]
    for p in plan: paired(**p)
out({"what": "done", "experiments": len(plan)})
