# Loads a model directory with Python transformers and writes its logits on a file of sentences (one per
# line) to a safetensors file: the check that what HeadGuard writes loads back in transformers unchanged.
# Usage: python scripts/hf-logits.py MODEL_DIR SENTENCES.txt OUT.safetensors   (needs torch, transformers)
import sys, torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import AutoModelForSequenceClassification

d, sentences, out = sys.argv[1:4]
torch.set_num_threads(1)
model = AutoModelForSequenceClassification.from_pretrained(d).eval()
tok = Tokenizer.from_file(d + "/tokenizer.json")
pad = model.config.pad_token_id
tok.enable_padding(pad_id=pad, pad_token=tok.id_to_token(pad))
enc = tok.encode_batch([l.rstrip("\n") for l in open(sentences, encoding="utf-8") if l.strip()])
inputs = dict(input_ids=torch.tensor([e.ids for e in enc]), attention_mask=torch.tensor([e.attention_mask for e in enc]))
with torch.no_grad():
    logits = model(**inputs).logits.float().contiguous()
save_file({"logits": logits}, out, metadata={"class": type(model).__name__})
