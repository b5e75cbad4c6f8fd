"""Randomly initialised models saved like downloaded ones, for tests and the benchmark.

No weights can be downloaded here, so the loading path is exercised with models built from configs
and written with `save_pretrained` (config, safetensors, processor and tokenizer files), the layout
`hf download` produces. Their outputs are random; only shapes and plumbing are meaningful.

`full_size=False` builds tiny models for fast tests. `full_size=True` builds the *architecture* of
the recommended checkpoints (OWLv2-base-patch16 at 960 px, Grounding-DINO-tiny, SAM ViT-B,
Depth-Anything-V2-Small at 518 px) with random weights: same layers, same input sizes, so the same
compute per frame as the real models, which is what the benchmark needs. Only the tokenizers stay
toy-sized (character-level), which barely changes the cost since text is encoded once.
Builders seed torch, so a session always gets the same weights.
"""

from __future__ import annotations

from pathlib import Path

import torch
import transformers

TINY_WORDS = ("chair", "table", "lamp", "sofa", "tv", "bed", "plant", "cabinet", "dining", "a", "photo", "of")


def _clip_tokenizer() -> transformers.CLIPTokenizer:
    """Character-level CLIP BPE (no merges): any lowercase text tokenises without a real vocab.

    Ids: pad 0, bos 1, eos 2. OWL masks text queries whose first token id is 0, so bos must not be 0.
    """
    vocab = {"!": 0, "<|startoftext|>": 1, "<|endoftext|>": 2}
    for char in "abcdefghijklmnopqrstuvwxyz.":
        vocab[char] = len(vocab)
        vocab[char + "</w>"] = len(vocab)
    return transformers.CLIPTokenizer(vocab=vocab, merges=[], pad_token="!", model_max_length=16)


def save_random_owl(directory: Path, version: int = 2, full_size: bool = False) -> Path:
    """An OWLv2 (version=2) or OWL-ViT (version=1) detector with its processor.

    The box regression layer is zeroed, so boxes are OWL's patch-grid priors (one patch-sized box
    per patch) instead of the degenerate boxes a random head saturates to.
    """
    torch.manual_seed(0)
    tokenizer = _clip_tokenizer()
    token_ids = dict(vocab_size=len(tokenizer.get_vocab()), max_position_embeddings=16, bos_token_id=1,
                     eos_token_id=2, pad_token_id=0)
    if full_size:  # owlv2-base-patch16: ViT-B/16 at 960 px, CLIP text transformer
        text, vision, projection, side = token_ids, dict(image_size=960, patch_size=16), 512, 960
    else:
        text = dict(token_ids, hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2)
        vision = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                      image_size=32, patch_size=8)
        projection, side = 16, 32
    size = {"height": side, "width": side}
    if version == 2:
        model = transformers.Owlv2ForObjectDetection(
            transformers.Owlv2Config(text_config=text, vision_config=vision, projection_dim=projection))
        image_processor = transformers.Owlv2ImageProcessorPil(size=size)
        processor = transformers.Owlv2Processor(image_processor=image_processor, tokenizer=tokenizer)
    else:
        model = transformers.OwlViTForObjectDetection(
            transformers.OwlViTConfig(text_config=text, vision_config=vision, projection_dim=projection))
        image_processor = transformers.OwlViTImageProcessorPil(size=size, crop_size=size)
        processor = transformers.OwlViTProcessor(image_processor=image_processor, tokenizer=tokenizer)
    torch.nn.init.zeros_(model.box_head.dense2.weight)
    torch.nn.init.zeros_(model.box_head.dense2.bias)
    return _save(directory, model, processor)


def save_random_grounding_dino(directory: Path, full_size: bool = False) -> Path:
    """A Grounding DINO (Swin + BERT) with its processor; the vocabulary holds TINY_WORDS."""
    torch.manual_seed(0)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", *TINY_WORDS]
    if full_size:  # grounding-dino-tiny: Swin-T, BERT-base, 900 queries, 800-1333 px input
        config = transformers.GroundingDinoConfig()
        image_processor = transformers.GroundingDinoImageProcessorPil()
    else:
        config = transformers.GroundingDinoConfig(
            backbone_config=transformers.SwinConfig(
                image_size=32, patch_size=4, embed_dim=8, depths=[1, 1], num_heads=[1, 1], window_size=2,
                out_features=["stage1", "stage2"],
            ),
            text_config=transformers.BertConfig(
                vocab_size=len(words), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                intermediate_size=32, max_position_embeddings=32,
            ),
            d_model=32, encoder_layers=1, decoder_layers=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
            encoder_attention_heads=2, decoder_attention_heads=2, num_queries=20, num_feature_levels=2,
            max_text_len=32, encoder_n_points=2, decoder_n_points=2,
        )
        image_processor = transformers.GroundingDinoImageProcessorPil(size={"shortest_edge": 32, "longest_edge": 64})
    tokenizer = transformers.BertTokenizer(vocab={w: i for i, w in enumerate(words)},
                                           model_max_length=config.max_text_len)
    processor = transformers.GroundingDinoProcessor(image_processor=image_processor, tokenizer=tokenizer)
    return _save(directory, transformers.GroundingDinoForObjectDetection(config), processor)


def save_random_sam(directory: Path, full_size: bool = False) -> Path:
    """A SAM with its processor: ViT-B at 1024 px when full size, else a 64 px toy."""
    torch.manual_seed(0)
    if full_size:
        config, image_processor = transformers.SamConfig(), transformers.SamImageProcessorPil()
    else:
        config = transformers.SamConfig(
            vision_config=dict(hidden_size=16, output_channels=16, num_hidden_layers=1, num_attention_heads=2,
                               image_size=64, patch_size=16, mlp_dim=32, global_attn_indexes=[0], window_size=2,
                               num_pos_feats=8),
            prompt_encoder_config=dict(hidden_size=16, image_size=64, patch_size=16, mask_input_channels=4),
            mask_decoder_config=dict(hidden_size=16, mlp_dim=32, num_attention_heads=2, iou_head_hidden_dim=16),
        )
        image_processor = transformers.SamImageProcessorPil(
            size={"longest_edge": 64}, pad_size={"height": 64, "width": 64},
            mask_size={"longest_edge": 16}, mask_pad_size={"height": 16, "width": 16},
        )
    return _save(directory, transformers.SamModel(config), transformers.SamProcessor(image_processor=image_processor))


def save_random_depth_anything(directory: Path, depth_estimation_type: str = "metric", full_size: bool = False) -> Path:
    """A Depth Anything (DINOv2 backbone); metric models output up to 20 m like the Indoor checkpoints."""
    torch.manual_seed(0)
    kind = dict(depth_estimation_type=depth_estimation_type, max_depth=20)
    if full_size:  # Depth-Anything-V2-Small: DINOv2-S/14 at 518 px
        config = transformers.DepthAnythingConfig(**kind)
        side = 518
    else:
        backbone = transformers.Dinov2Config(
            image_size=28, patch_size=14, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
            intermediate_size=32, out_features=["stage1", "stage2"], reshape_hidden_states=False,
        )
        config = transformers.DepthAnythingConfig(
            backbone_config=backbone, reassemble_hidden_size=16, neck_hidden_sizes=[8, 16], fusion_hidden_size=16,
            head_hidden_size=8, reassemble_factors=[2, 1], **kind,
        )
        side = 28
    image_processor = transformers.DPTImageProcessorPil(
        size={"height": side, "width": side}, keep_aspect_ratio=True, ensure_multiple_of=14
    )
    return _save(directory, transformers.DepthAnythingForDepthEstimation(config), image_processor)


def _save(directory: Path, model, processor) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory
