"""Reference data: real cloud regions with their country and jurisdiction, and use cases
with their EU AI Act class. Seeded by policy/seed.py; edit in the admin."""

from __future__ import annotations

# EU adequacy decisions (European Commission): EU/EEA members count as adequate. The US
# Data Privacy Framework covers certified companies only, so US regions are not adequate
# here; a policy parameter can change that.
ADEQUATE_COUNTRIES = {"CH", "GB", "JP", "KR", "CA", "IL", "NZ", "AR", "UY", "AD"}
EEA_COUNTRIES = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "NO", "IS", "LI",
}  # fmt: skip
JURISDICTION_BY_COUNTRY = {
    "GB": "UK", "CH": "CH", "US": "US", "CA": "CA", "BR": "BR", "JP": "JP", "KR": "KR",
    "IN": "IN", "SG": "SG", "AU": "AU", "HK": "HK", "CN": "CN", "AE": "AE", "IL": "IL",
    "ZA": "ZA",
}  # fmt: skip

# (code, provider, name, country)
REGIONS: list[tuple[str, str, str, str]] = [
    # AWS
    ("us-east-1", "aws", "US East (N. Virginia)", "US"),
    ("us-east-2", "aws", "US East (Ohio)", "US"),
    ("us-west-1", "aws", "US West (N. California)", "US"),
    ("us-west-2", "aws", "US West (Oregon)", "US"),
    ("ca-central-1", "aws", "Canada (Central)", "CA"),
    ("sa-east-1", "aws", "South America (São Paulo)", "BR"),
    ("eu-west-1", "aws", "Europe (Ireland)", "IE"),
    ("eu-west-2", "aws", "Europe (London)", "GB"),
    ("eu-west-3", "aws", "Europe (Paris)", "FR"),
    ("eu-central-1", "aws", "Europe (Frankfurt)", "DE"),
    ("eu-central-2", "aws", "Europe (Zurich)", "CH"),
    ("eu-north-1", "aws", "Europe (Stockholm)", "SE"),
    ("eu-south-1", "aws", "Europe (Milan)", "IT"),
    ("eu-south-2", "aws", "Europe (Spain)", "ES"),
    ("ap-northeast-1", "aws", "Asia Pacific (Tokyo)", "JP"),
    ("ap-northeast-2", "aws", "Asia Pacific (Seoul)", "KR"),
    ("ap-northeast-3", "aws", "Asia Pacific (Osaka)", "JP"),
    ("ap-southeast-1", "aws", "Asia Pacific (Singapore)", "SG"),
    ("ap-southeast-2", "aws", "Asia Pacific (Sydney)", "AU"),
    ("ap-south-1", "aws", "Asia Pacific (Mumbai)", "IN"),
    ("ap-east-1", "aws", "Asia Pacific (Hong Kong)", "HK"),
    ("me-central-1", "aws", "Middle East (UAE)", "AE"),
    ("il-central-1", "aws", "Israel (Tel Aviv)", "IL"),
    ("af-south-1", "aws", "Africa (Cape Town)", "ZA"),
    ("cn-north-1", "aws", "China (Beijing)", "CN"),
    ("cn-northwest-1", "aws", "China (Ningxia)", "CN"),
    # Azure
    ("westeurope", "azure", "West Europe (Netherlands)", "NL"),
    ("northeurope", "azure", "North Europe (Ireland)", "IE"),
    ("francecentral", "azure", "France Central (Paris)", "FR"),
    ("germanywestcentral", "azure", "Germany West Central (Frankfurt)", "DE"),
    ("swedencentral", "azure", "Sweden Central (Gävle)", "SE"),
    ("italynorth", "azure", "Italy North (Milan)", "IT"),
    ("polandcentral", "azure", "Poland Central (Warsaw)", "PL"),
    ("norwayeast", "azure", "Norway East (Oslo)", "NO"),
    ("switzerlandnorth", "azure", "Switzerland North (Zurich)", "CH"),
    ("uksouth", "azure", "UK South (London)", "GB"),
    ("ukwest", "azure", "UK West (Cardiff)", "GB"),
    ("eastus", "azure", "East US (Virginia)", "US"),
    ("eastus2", "azure", "East US 2 (Virginia)", "US"),
    ("westus3", "azure", "West US 3 (Arizona)", "US"),
    ("centralus", "azure", "Central US (Iowa)", "US"),
    ("canadacentral", "azure", "Canada Central (Toronto)", "CA"),
    ("brazilsouth", "azure", "Brazil South (São Paulo)", "BR"),
    ("japaneast", "azure", "Japan East (Tokyo)", "JP"),
    ("koreacentral", "azure", "Korea Central (Seoul)", "KR"),
    ("southeastasia", "azure", "Southeast Asia (Singapore)", "SG"),
    ("australiaeast", "azure", "Australia East (New South Wales)", "AU"),
    ("centralindia", "azure", "Central India (Pune)", "IN"),
    ("uaenorth", "azure", "UAE North (Dubai)", "AE"),
    ("southafricanorth", "azure", "South Africa North (Johannesburg)", "ZA"),
    # Google Cloud
    ("europe-west1", "gcp", "Belgium (St. Ghislain)", "BE"),
    ("europe-west2", "gcp", "London", "GB"),
    ("europe-west3", "gcp", "Frankfurt", "DE"),
    ("europe-west4", "gcp", "Netherlands (Eemshaven)", "NL"),
    ("europe-west6", "gcp", "Zurich", "CH"),
    ("europe-west8", "gcp", "Milan", "IT"),
    ("europe-west9", "gcp", "Paris", "FR"),
    ("europe-north1", "gcp", "Finland (Hamina)", "FI"),
    ("europe-southwest1", "gcp", "Madrid", "ES"),
    ("europe-central2", "gcp", "Warsaw", "PL"),
    ("us-central1", "gcp", "Iowa", "US"),
    ("us-east1", "gcp", "South Carolina", "US"),
    ("us-east4", "gcp", "Northern Virginia", "US"),
    ("us-west1", "gcp", "Oregon", "US"),
    ("northamerica-northeast1", "gcp", "Montréal", "CA"),
    ("southamerica-east1", "gcp", "São Paulo", "BR"),
    ("asia-northeast1", "gcp", "Tokyo", "JP"),
    ("asia-northeast3", "gcp", "Seoul", "KR"),
    ("asia-southeast1", "gcp", "Singapore", "SG"),
    ("asia-south1", "gcp", "Mumbai", "IN"),
    ("asia-east2", "gcp", "Hong Kong", "HK"),
    ("australia-southeast1", "gcp", "Sydney", "AU"),
    # On-premises sites
    ("on-prem-de", "on_prem", "On-prem: Germany", "DE"),
    ("on-prem-fr", "on_prem", "On-prem: France", "FR"),
    ("on-prem-ch", "on_prem", "On-prem: Switzerland", "CH"),
    ("on-prem-uk", "on_prem", "On-prem: United Kingdom", "GB"),
    ("on-prem-us", "on_prem", "On-prem: United States", "US"),
]


def jurisdiction_of(country: str) -> str:
    if country in EEA_COUNTRIES:
        return "EU"
    return JURISDICTION_BY_COUNTRY.get(country, "OTHER")


def eu_adequacy_of(country: str) -> bool:
    return country in EEA_COUNTRIES or country in ADEQUATE_COUNTRIES


# (slug, name, EU AI Act class, legal reference, description)
USE_CASES: list[tuple[str, str, str, str, str]] = [
    ("social-scoring", "Social scoring of natural persons", "prohibited", "Art. 5(1)(c)",
     "Evaluating or classifying people by social behaviour or personality, leading to detrimental treatment."),
    ("manipulative-techniques", "Subliminal or manipulative techniques", "prohibited", "Art. 5(1)(a)",
     "Materially distorting behaviour in ways that cause significant harm."),
    ("exploiting-vulnerabilities", "Exploiting vulnerabilities (age, disability, situation)", "prohibited", "Art. 5(1)(b)", ""),
    ("untargeted-facial-scraping", "Untargeted scraping of facial images", "prohibited", "Art. 5(1)(e)",
     "Building facial recognition databases from the internet or CCTV."),
    ("emotion-recognition-workplace", "Emotion recognition at work or in education", "prohibited", "Art. 5(1)(f)", ""),
    ("predictive-policing-profiling", "Predicting crime from profiling alone", "prohibited", "Art. 5(1)(d)", ""),
    ("realtime-remote-biometric-identification", "Real-time remote biometric identification in public (law enforcement)", "prohibited", "Art. 5(1)(h)", ""),
    ("cv-screening", "CV screening and candidate ranking", "high", "Annex III 4(a)",
     "Recruitment and selection: analysing applications, evaluating candidates."),
    ("credit-scoring", "Creditworthiness assessment", "high", "Annex III 5(b)",
     "Evaluating the creditworthiness of natural persons or establishing their credit score."),
    ("education-exam-scoring", "Scoring exams and admissions", "high", "Annex III 3(a)-(b)", ""),
    ("critical-infrastructure-control", "Safety components of critical infrastructure", "high", "Annex III 2", ""),
    ("insurance-risk-pricing", "Life and health insurance risk pricing", "high", "Annex III 5(c)", ""),
    ("public-benefits-eligibility", "Eligibility for public benefits", "high", "Annex III 5(a)", ""),
    ("customer-support-chatbot", "Customer support chatbot", "limited", "Art. 50(1)",
     "People must be told they are interacting with an AI system."),
    ("marketing-image-generation", "Marketing image generation", "limited", "Art. 50(2)",
     "Generated images must be marked as artificially generated (machine-readable)."),
    ("synthetic-voice", "Synthetic voice and audio", "limited", "Art. 50(2)", ""),
    ("coding-assistant", "Coding assistant", "minimal", "", "Code completion and review for engineers."),
    ("clinical-notes-summarisation", "Clinical notes summarisation", "minimal", "",
     "Drafting summaries of clinical notes for clinicians to review; health data (special category)."),
    ("document-translation", "Document translation", "minimal", "", ""),
    ("internal-knowledge-search", "Internal knowledge search (RAG)", "minimal", "", ""),
]  # fmt: skip
