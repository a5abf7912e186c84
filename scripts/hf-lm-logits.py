# Loads a decoder directory with Python transformers (AutoModelForCausalLM) and writes its next-token
# logits after each prompt (one per line, no padding) to a safetensors file: the check that a decoder
# HeadGuard pretrained or changed loads back in transformers unchanged.
# Usage: python scripts/hf-lm-logits.py MODEL_DIR PROMPTS.txt OUT.safetensors   (needs torch, transformers)
import sys, torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM

d, prompts, out = sys.argv[1:4]
torch.set_num_threads(1)
model = AutoModelForCausalLM.from_pretrained(d).eval()
tok = Tokenizer.from_file(d + "/tokenizer.json")
rows = []
for line in [l.rstrip("\n") for l in open(prompts, encoding="utf-8") if l.strip()]:
    ids = torch.tensor([tok.encode(line).ids])
    with torch.no_grad():
        rows.append(model(input_ids=ids).logits[0, -1].float())
save_file({"logits": torch.stack(rows).contiguous()}, out, metadata={"class": type(model).__name__})
