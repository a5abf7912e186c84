# Random-init sequence classifiers of GPT-2 small's shape (12 layers, 12 heads, hidden 768) and of a
# Llama-family shape of similar size (12 layers, 12 query heads, 4 KV heads, hidden 768, SwiGLU 2048), for
# the forward-speed comparison with transformers. Usage: python scripts/make-speed-models.py OUT TOKENIZER_JSON
import os, shutil, sys, torch
import transformers as tf

out, tokenizer = sys.argv[1], sys.argv[2]
common = dict(vocab_size=900, pad_token_id=3, bos_token_id=1, eos_token_id=2, num_labels=2)
shapes = {
    "gpt2-small": tf.GPT2Config(n_embd=768, n_layer=12, n_head=12, n_positions=1024, **common),
    "llama-small": tf.LlamaConfig(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, num_key_value_heads=4,
                                  intermediate_size=2048, max_position_embeddings=1024, **common),
}
for name, config in shapes.items():
    torch.manual_seed(1)
    d = os.path.join(out, name)
    tf.AutoModelForSequenceClassification.from_config(config).save_pretrained(d, safe_serialization=True)
    shutil.copy(tokenizer, os.path.join(d, "tokenizer.json"))
