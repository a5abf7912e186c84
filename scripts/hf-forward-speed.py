# Forward throughput of transformers on a model directory, every attention map returned (eager attention,
# as HeadGuard's scans need them): the other side of `headguard bench encoder --no-onnx`.
# Usage: python scripts/hf-forward-speed.py MODEL_DIR SENTENCES.txt THREADS BATCH [REPEATS]
# Same batches as HeadGuard: file order, padded to the longest in each batch; one untimed pass, best of REPEATS.
import sys, time, torch
from tokenizers import Tokenizer
from transformers import AutoModelForSequenceClassification

d, path, threads, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
repeats = int(sys.argv[5]) if len(sys.argv) > 5 else 2
torch.set_num_threads(threads)
model = AutoModelForSequenceClassification.from_pretrained(d, attn_implementation="eager").eval()
tok = Tokenizer.from_file(d + "/tokenizer.json")
pad = model.config.pad_token_id if model.config.pad_token_id is not None else 0
tok.enable_padding(pad_id=pad, pad_token=tok.id_to_token(pad))
tok.enable_truncation(128)
sentences = [l.rstrip("\n") for l in open(path, encoding="utf-8") if l.strip()]
batches = []
for i in range(0, len(sentences), batch):
    enc = tok.encode_batch(sentences[i:i + batch])
    batches.append((torch.tensor([e.ids for e in enc]), torch.tensor([e.attention_mask for e in enc])))


def run():
    with torch.inference_mode():
        for ids, mask in batches:
            model(input_ids=ids, attention_mask=mask, output_attentions=True)


run()
best = min((lambda t0: (run(), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(repeats))
print(f"transformers {__import__('transformers').__version__} (torch {torch.__version__}), eager, all attention maps: "
      f"{len(sentences) / best:.1f} sentences/s ({threads} threads, batch {batch})")
