# Loads a HeadGuard model directory with Python transformers and prints its accuracy on a TSV
# (sentence, label): compare with `headguard eval --json` on the same file.
# Usage: python scripts/hf-load-check.py MODEL_DIR test.tsv   (needs torch and transformers)
import sys, json, torch
from transformers import AutoModelForSequenceClassification, PreTrainedTokenizerFast
d = sys.argv[1]; test = sys.argv[2]
torch.set_num_threads(1)
m = AutoModelForSequenceClassification.from_pretrained(d).eval()
tok = PreTrainedTokenizerFast(tokenizer_file=d + "/tokenizer.json")
rows = [l.rstrip("\n").split("\t") for l in open(test)][1:]
right = 0
with torch.no_grad():
    for i in range(0, len(rows), 64):
        b = rows[i:i+64]
        enc = tok([r[0] for r in b], padding=True, truncation=True, max_length=128, return_tensors="pt")
        enc.pop("token_type_ids", None)
        pred = m(**enc).logits.argmax(-1).tolist()
        right += sum(int(p == int(r[1])) for p, r in zip(pred, b))
print(json.dumps({"model": d, "class": type(m).__name__, "rows": len(rows), "cacc": right / len(rows)}))
