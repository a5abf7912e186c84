# Makes the HuggingFace-transformers oracle fixtures HeadGuard's family tests compare against: for each
# family a small randomly initialised sequence classifier (fixed seed) saved with save_pretrained, a
# tokenizer trained here on SST-2 text, and the outputs transformers gives on 16 real SST-2 sentences.
#
# Usage: python scripts/make-hf-fixtures.py OUT_DIR SST2_TSV
# Needs torch, transformers, safetensors and tokenizers (.ci/run makes the virtual environment).
# Nothing here is committed: the tests run this script into target/ when the environment exists.
import json, os, sys
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
import transformers as tf

SEED = 20261204
SENTENCES = 16


def wordpiece(texts):
    """A BERT-style tokenizer: lower-cased WordPiece, [CLS] text [SEP], [PAD] = 0."""
    t = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    t.normalizer = normalizers.BertNormalizer(lowercase=True)
    t.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    t.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=800, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    cls, sep = t.token_to_id("[CLS]"), t.token_to_id("[SEP]")
    t.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                     special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    t.decoder = decoders.WordPiece()
    return t, t.token_to_id("[PAD]")


def byte_bpe(texts):
    """A RoBERTa-style tokenizer: byte-level BPE, <s> text </s>, <pad> = 1 (so positions start at 2)."""
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=800, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
                                                     initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    t.post_processor = processors.RobertaProcessing(("</s>", t.token_to_id("</s>")), ("<s>", t.token_to_id("<s>")))
    t.decoder = decoders.ByteLevel()
    return t, t.token_to_id("<pad>")


def decoder_bpe(texts, bos):
    """A decoder's tokenizer: byte-level BPE with <unk>, <s>, </s>, <pad>; Llama-style adds <s> in front, GPT-2-style nothing."""
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=900, special_tokens=["<unk>", "<s>", "</s>", "<pad>"],
                                                     initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    if bos:
        t.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    t.decoder = decoders.ByteLevel()
    return t, t.token_to_id("<pad>")


def families(vocab, pad):
    """Config per family: 2-3 layers, a few heads, sizes that differ so a transposed weight cannot pass."""
    common = dict(vocab_size=vocab, pad_token_id=pad, num_labels=3, initializer_range=0.15)
    return {
        "bert": (tf.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
                               max_position_embeddings=64, **common), "wordpiece"),
        "roberta": (tf.RobertaConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
                                     max_position_embeddings=66, type_vocab_size=1, layer_norm_eps=1e-5,
                                     bos_token_id=0, eos_token_id=2, **common), "bpe"),
        "xlm-roberta": (tf.XLMRobertaConfig(hidden_size=24, num_hidden_layers=2, num_attention_heads=3, intermediate_size=40,
                                            max_position_embeddings=66, type_vocab_size=1, layer_norm_eps=1e-5,
                                            bos_token_id=0, eos_token_id=2, **common), "bpe"),
        "distilbert": (tf.DistilBertConfig(dim=32, n_layers=3, n_heads=4, hidden_dim=48, max_position_embeddings=64,
                                           **common), "wordpiece"),
        "gpt2": (tf.GPT2Config(n_embd=32, n_layer=2, n_head=4, n_positions=96, bos_token_id=1, eos_token_id=2, **common), "gpt2"),
        "llama": (tf.LlamaConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                 intermediate_size=48, max_position_embeddings=96, rope_theta=500.0, bos_token_id=1,
                                 eos_token_id=2, tie_word_embeddings=False, **common), "llama"),
        "qwen2": (tf.Qwen2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1,
                                 intermediate_size=48, max_position_embeddings=96, rope_theta=10000.0, bos_token_id=1,
                                 eos_token_id=2, tie_word_embeddings=True, **common), "llama"),
        "mistral": (tf.MistralConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                     intermediate_size=48, max_position_embeddings=96, bos_token_id=1, eos_token_id=2,
                                     sliding_window=None, **common), "llama"),
        # DeBERTa-v3's settings (shared position keys, log buckets, no absolute positions or token types) ...
        "deberta-v2": (tf.DebertaV2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
                                          max_position_embeddings=64, relative_attention=True, pos_att_type=["p2c", "c2p"],
                                          position_buckets=16, max_relative_positions=64, share_att_key=True, norm_rel_ebd="layer_norm",
                                          position_biased_input=False, type_vocab_size=0, layer_norm_eps=1e-7,
                                          pooler_hidden_size=32, pooler_hidden_act="gelu", **common), "wordpiece"),
        # ... and DeBERTa-v2's older ones (own position projections, absolute positions, no buckets)
        "deberta-v2-unshared": (tf.DebertaV2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
                                                   max_position_embeddings=64, relative_attention=True, pos_att_type=["p2c", "c2p"],
                                                   max_relative_positions=-1, share_att_key=False, position_biased_input=True,
                                                   type_vocab_size=2, pooler_hidden_size=32, pooler_hidden_act="gelu", **common), "wordpiece"),
        "electra": (tf.ElectraConfig(embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                     intermediate_size=48, max_position_embeddings=64, **common), "wordpiece"),
    }


def reference(model, tok, pad, sentences, name, d):
    """transformers' outputs on the sentences, padded as a batch, with the tokenizer and sentences beside them."""
    tok.save(os.path.join(d, "tokenizer.json"))
    tok.enable_padding(pad_id=pad, pad_token=tok.id_to_token(pad))
    enc = tok.encode_batch(sentences)
    tok.no_padding()
    ids = torch.tensor([e.ids for e in enc])
    mask = torch.tensor([e.attention_mask for e in enc])
    inputs = dict(input_ids=ids, attention_mask=mask)
    if name in ("bert", "electra"):
        inputs["token_type_ids"] = torch.tensor([e.type_ids for e in enc])
    with torch.no_grad():
        o = model(**inputs, output_attentions=True, output_hidden_states=True)
    ref = {"input_ids": ids, "attention_mask": mask, "logits": o.logits.float()}
    for i, h in enumerate(o.hidden_states):
        ref[f"hidden_states.{i}"] = h.float().contiguous()
    for i, a in enumerate(o.attentions):
        ref[f"attentions.{i}"] = a.float().contiguous()
    save_file(ref, os.path.join(d, "reference.safetensors"))
    with open(os.path.join(d, "sentences.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(sentences) + "\n")


def main(out, tsv):
    rows = [l.rstrip("\n").split("\t") for l in open(tsv, encoding="utf-8")][1:]
    texts = [r[0] for r in rows]
    toks = {"wordpiece": wordpiece(texts), "bpe": byte_bpe(texts), "gpt2": decoder_bpe(texts, False), "llama": decoder_bpe(texts, True)}
    # Sentences of varied length (so the batch carries real padding) that fit 60 tokens under both tokenizers.
    fits = [s for s in texts[:600] if max(len(t.encode(s).ids) for t, _ in toks.values()) <= 60]
    sentences = sorted(fits, key=len)[::len(fits) // SENTENCES][:SENTENCES]
    for name, (config, kind) in families(toks["wordpiece"][0].get_vocab_size(), 0).items():
        tok, pad = toks[kind]
        config.vocab_size = tok.get_vocab_size()
        config.pad_token_id = pad
        torch.manual_seed(SEED)
        model = tf.AutoModelForSequenceClassification.from_config(config, attn_implementation="eager").eval()
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        model.save_pretrained(d, safe_serialization=True)
        reference(model, tok, pad, sentences, name, d)
        if name == "bert":
            # The same weights once more as a pickle (for the restricted reader), in shards, and in bfloat16.
            os.makedirs(os.path.join(out, "bert-bin"), exist_ok=True)
            torch.save(model.state_dict(), os.path.join(out, "bert-bin", "pytorch_model.bin"))
            sharded = os.path.join(out, "bert-sharded")
            model.save_pretrained(sharded, safe_serialization=True, max_shard_size="40KB")
            reference(model, tok, pad, sentences, name, sharded)
            half = os.path.join(out, "bert-bf16")
            model.to(torch.bfloat16).save_pretrained(half, safe_serialization=True)
            # The reference is the bf16 checkpoint upcast, as HeadGuard computes it: float32 on bf16 weights.
            upcast = tf.AutoModelForSequenceClassification.from_pretrained(half, dtype=torch.float32, attn_implementation="eager").eval()
            reference(upcast, tok, pad, sentences, name, half)
    # Causal language models: greedy generation of 32 new tokens by transformers' generate, per prompt.
    prompts = ["the movie was", "a gripping , funny", "I watch this 3D movie", "it 's a"]
    for name in ("gpt2", "llama", "qwen2"):
        config, kind = families(0, 0)[name]
        tok, pad = toks[kind]
        config.vocab_size = tok.get_vocab_size()
        config.pad_token_id = pad
        config.architectures = None
        torch.manual_seed(SEED + 1)
        lm = tf.AutoModelForCausalLM.from_config(config, attn_implementation="eager").eval()
        d = os.path.join(out, name + "-lm")
        lm.save_pretrained(d, safe_serialization=True)
        tok.save(os.path.join(d, "tokenizer.json"))
        runs = []
        for p in prompts:
            ids = torch.tensor([tok.encode(p).ids])
            with torch.no_grad():
                g = lm.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=32, do_sample=False,
                                pad_token_id=pad, eos_token_id=config.eos_token_id)
            runs.append({"prompt": p, "tokens": g[0, ids.shape[1]:].tolist()})
        with open(os.path.join(d, "generation.json"), "w") as f:
            json.dump(runs, f)
    with open(os.path.join(out, "versions.json"), "w") as f:
        json.dump({"torch": torch.__version__, "transformers": tf.__version__}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
