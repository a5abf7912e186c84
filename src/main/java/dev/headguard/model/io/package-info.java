/**
 * Model files: a strict safetensors reader and writer, a minimal ONNX reader with the importer that maps a BERT export to HuggingFace weights, model directories in the HuggingFace layout, and the built-in models that ship through Maven.
 */
package dev.headguard.model.io;
