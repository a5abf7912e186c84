# The response-only loss of supervised fine-tuning as transformers computes it: each row's prompt
# positions labelled -100, the model's own shifted cross-entropy over the rest. Reads rows of token ids
# with the index of their first response token, writes each row's mean loss and token count.
# Usage: python scripts/hf-response-loss.py MODEL_DIR ROWS.json OUT.json   (needs torch, transformers)
# ROWS.json: [{"ids": [...], "start": k}, ...]; OUT.json: [{"loss": mean, "tokens": n}, ...]
import json, sys, torch
from transformers import AutoModelForCausalLM

d, rows_file, out = sys.argv[1:4]
torch.set_num_threads(1)
model = AutoModelForCausalLM.from_pretrained(d).eval()
result = []
for row in json.load(open(rows_file)):
    ids = torch.tensor([row["ids"]])
    labels = ids.clone()
    labels[0, : row["start"]] = -100
    with torch.no_grad():
        loss = model(input_ids=ids, labels=labels).loss.item()
    result.append({"loss": loss, "tokens": int((labels[0, 1:] != -100).sum())})
json.dump(result, open(out, "w"))
