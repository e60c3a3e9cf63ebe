"""The real licences of the demo models, with their obligations as data."""

from __future__ import annotations

from typing import Any

LICENSES: list[dict[str, Any]] = [
    {
        "spdx_id": "Apache-2.0",
        "name": "Apache License 2.0",
        "category": "permissive",
        "commercial_use": True,
        "attribution_required": True,
        "share_alike": False,
        "source_url": "https://www.apache.org/licenses/LICENSE-2.0",
        "obligations": [
            "Keep the licence text and the NOTICE file with any redistribution.",
            "State significant changes you made to the files.",
            "Includes an express patent licence, terminated if you sue over patents in the work.",
        ],
        "summary": "Permissive licence with attribution and a patent grant.",
    },
    {
        "spdx_id": "MIT",
        "name": "MIT License",
        "category": "permissive",
        "commercial_use": True,
        "attribution_required": True,
        "share_alike": False,
        "source_url": "https://opensource.org/license/mit",
        "obligations": ["Keep the copyright notice and the licence text in copies."],
        "summary": "Short permissive licence; only the notice must be kept.",
    },
    {
        "spdx_id": "LicenseRef-Llama-3.1-Community",
        "name": "Llama 3.1 Community License Agreement",
        "category": "open_weights_restricted",
        "commercial_use": True,
        "attribution_required": True,
        "share_alike": False,
        "acceptable_use_policy_url": "https://llama.meta.com/llama3_1/use-policy",
        "user_threshold_mau": 700_000_000,
        "territorial_restrictions": [],
        "source_url": "https://github.com/meta-llama/llama-models/blob/main/models/llama3_1/LICENSE",
        "obligations": [
            "Display “Built with Llama” on a related website, user interface, blog post, about "
            "page or product documentation.",
            "A model trained or fine-tuned on Llama 3.1 outputs and distributed must have a name "
            "beginning with “Llama”.",
            "Redistributions must include a copy of the agreement and the attribution notice "
            "“Llama 3.1 is licensed under the Llama 3.1 Community License, Copyright © Meta "
            "Platforms, Inc. All Rights Reserved.”",
            "Over 700 million monthly active users (on the release date) requires a licence "
            "granted by Meta.",
        ],
        "summary": "Meta's community licence: commercial use allowed with attribution, an "
        "acceptable use policy and a 700M MAU ceiling.",
    },
    {
        "spdx_id": "LicenseRef-Llama-3.2-Community",
        "name": "Llama 3.2 Community License Agreement",
        "category": "open_weights_restricted",
        "commercial_use": True,
        "attribution_required": True,
        "share_alike": False,
        "acceptable_use_policy_url": "https://www.llama.com/llama3_2/use-policy",
        "user_threshold_mau": 700_000_000,
        "territorial_restrictions": ["EU"],
        "source_url": "https://github.com/meta-llama/llama-models/blob/main/models/llama3_2/LICENSE",
        "obligations": [
            "Display “Built with Llama” and name derived models beginning with “Llama”.",
            "Redistributions must include a copy of the agreement and the attribution notice.",
            "The acceptable use policy does not grant the rights to the multimodal models to "
            "individuals domiciled in, or companies with a principal place of business in, the "
            "European Union (end users of products that include them are not affected).",
            "Over 700 million monthly active users requires a licence granted by Meta.",
        ],
        "summary": "As Llama 3.1, plus no rights to the multimodal (vision) models for EU-based "
        "individuals and companies.",
    },
    {
        "spdx_id": "LicenseRef-Gemma-Terms-of-Use",
        "name": "Gemma Terms of Use",
        "category": "open_weights_restricted",
        "commercial_use": True,
        "attribution_required": True,
        "share_alike": False,
        "acceptable_use_policy_url": "https://ai.google.dev/gemma/prohibited_use_policy",
        "source_url": "https://ai.google.dev/gemma/terms",
        "obligations": [
            "Pass the use restrictions of the Gemma Prohibited Use Policy on to anyone you "
            "distribute Gemma or a derivative to.",
            "Give recipients a copy of the terms and the notice “Gemma is provided under and "
            "subject to the Gemma Terms of Use found at ai.google.dev/gemma/terms”.",
            "Google may restrict usage it reasonably believes violates the terms.",
        ],
        "summary": "Google's terms for Gemma weights: commercial use with flow-down use "
        "restrictions.",
    },
    {
        "spdx_id": "LicenseRef-Qwen",
        "name": "Qwen License Agreement (Tongyi Qianwen)",
        "category": "open_weights_restricted",
        "commercial_use": True,
        "attribution_required": True,
        "share_alike": False,
        "user_threshold_mau": 100_000_000,
        "source_url": "https://huggingface.co/Qwen/Qwen2.5-72B-Instruct/blob/main/LICENSE",
        "obligations": [
            "Products with more than 100 million monthly active users must request a licence "
            "from Alibaba Cloud.",
            "Display “Built with Qwen” or “Improved using Qwen” in product documentation when "
            "distributing or making a derivative available.",
            "Do not use the materials or outputs to improve another large language model, "
            "except Qwen and its derivatives.",
        ],
        "summary": "Alibaba Cloud's licence for the largest Qwen models: commercial use below "
        "100M MAU.",
    },
    {
        "spdx_id": "LicenseRef-DeepSeek-Model",
        "name": "DeepSeek License Agreement v1.0",
        "category": "rail",
        "commercial_use": True,
        "attribution_required": True,
        "share_alike": True,
        "acceptable_use_policy_url": "https://github.com/deepseek-ai/DeepSeek-V3/blob/main/LICENSE-MODEL",
        "source_url": "https://github.com/deepseek-ai/DeepSeek-V3/blob/main/LICENSE-MODEL",
        "obligations": [
            "Use-based restrictions (Attachment A: no military use, no harm to minors, no "
            "discrimination, no fully automated decisions with legal effect, ...) apply to you.",
            "Those use restrictions must be included in any agreement under which you "
            "distribute the model or a derivative.",
            "Give recipients a copy of the licence and keep modification notices.",
        ],
        "summary": "An OpenRAIL-style licence: commercial use allowed, with use-based "
        "restrictions that flow down to derivatives.",
    },
    {
        "spdx_id": "LicenseRef-OpenAI-API-Terms",
        "name": "OpenAI Services Agreement and Usage Policies",
        "category": "proprietary_api",
        "commercial_use": True,
        "acceptable_use_policy_url": "https://openai.com/policies/usage-policies",
        "source_url": "https://openai.com/policies/services-agreement",
        "obligations": [
            "Access through OpenAI's API only; weights are not available.",
            "Do not use outputs to develop models that compete with OpenAI.",
            "API inputs and outputs are not used for training by default; retention follows "
            "the agreement and any zero-data-retention addendum.",
        ],
        "summary": "Commercial API terms; customer owns outputs.",
    },
    {
        "spdx_id": "LicenseRef-Anthropic-Commercial-Terms",
        "name": "Anthropic Commercial Terms of Service and Usage Policy",
        "category": "proprietary_api",
        "commercial_use": True,
        "acceptable_use_policy_url": "https://www.anthropic.com/legal/aup",
        "source_url": "https://www.anthropic.com/legal/commercial-terms",
        "obligations": [
            "Access through Anthropic's API (or a cloud marketplace) only; weights are not "
            "available.",
            "Do not use the services to build a competing product or train competing models.",
            "Follow the Usage Policy, including its high-risk use case requirements.",
        ],
        "summary": "Commercial API terms; customer owns outputs.",
    },
    {
        "spdx_id": "LicenseRef-Google-Gemini-API-Terms",
        "name": "Gemini API Additional Terms of Service",
        "category": "proprietary_api",
        "commercial_use": True,
        "acceptable_use_policy_url": "https://policies.google.com/terms/generative-ai/use-policy",
        "source_url": "https://ai.google.dev/gemini-api/terms",
        "obligations": [
            "Access through the Gemini API or Vertex AI only; weights are not available.",
            "Follow the Generative AI Prohibited Use Policy.",
            "Do not use the services to develop models that compete with Gemini.",
        ],
        "summary": "Google's API terms for Gemini (Vertex AI customers: Google Cloud terms).",
    },
]
