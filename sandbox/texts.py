"""Word lists and message templates for the synthetic world (plain data, no logic)."""

FIRST_NAMES = (
    "Ada", "Alan", "Alice", "Amir", "Ana", "Anika", "Ben", "Bianca", "Carla", "Chen", "Chloe",
    "Dana", "David", "Diego", "Elena", "Emil", "Emma", "Farah", "Felix", "Grace", "Hana",
    "Hugo", "Ines", "Ivan", "Jade", "James", "Jonas", "Julia", "Kai", "Kenji", "Lara", "Leo",
    "Lina", "Luca", "Maya", "Mateo", "Mia", "Nadia", "Noah", "Nora", "Omar", "Olga", "Paul",
    "Priya", "Rafael", "Rosa", "Sam", "Sara", "Sofia", "Tariq", "Tom", "Uma", "Victor",
    "Wen", "Yara", "Yusuf", "Zoe",
)

LAST_NAMES = (
    "Abbott", "Adeyemi", "Bauer", "Becker", "Brooks", "Castro", "Chen", "Costa", "Dubois",
    "Evans", "Fischer", "Garcia", "Hansen", "Haddad", "Ito", "Jensen", "Kaur", "Keller",
    "Kim", "Kowalski", "Larsen", "Lopez", "Martin", "Meyer", "Moreau", "Nakamura", "Novak",
    "Okafor", "Olsen", "Patel", "Perez", "Quinn", "Rossi", "Santos", "Schmidt", "Silva",
    "Singh", "Sato", "Tanaka", "Torres", "Ueda", "Vargas", "Weber", "Wright", "Yilmaz",
    "Young", "Zhang",
)

ORG_FIRST = (
    "Acme", "Apex", "Arbor", "Atlas", "Beacon", "Blue", "Bright", "Cedar", "Cobalt", "Copper",
    "Crest", "Delta", "Ember", "Evergreen", "Falcon", "Granite", "Harbor", "Helix", "Horizon",
    "Iron", "Juniper", "Keystone", "Lumen", "Maple", "Meridian", "Nimbus", "North", "Nova",
    "Oak", "Orbit", "Pioneer", "Prairie", "Quartz", "Redwood", "Ridge", "Silver", "Summit",
    "Tidal", "Union", "Vertex", "Willow", "Zenith",
)

ORG_SECOND = (
    "Analytics", "Bakery", "Clinics", "Logistics", "Foods", "Labs", "Media", "Motors",
    "Outfitters", "Partners", "Robotics", "Software", "Studios", "Systems", "Textiles",
    "Travel", "Ventures", "Works", "Health", "Energy",
)

GROUPS = (
    ("Support", "First-line support"),
    ("Billing", "Invoices, refunds and plans"),
    ("Technical", "Bugs, integrations and the API"),
    ("Onboarding", "New customers and account setup"),
    ("Escalations", "Tier 2 and urgent incidents"),
)

#: topic -> (tag, group index, subjects)
TOPICS = {
    "billing": ("billing", 1, ("Invoice shows the wrong amount", "Refund request",
                                "Charged twice this month", "How do I change my plan?")),
    "login": ("login", 0, ("Cannot log in", "Password reset email never arrives",
                            "Two-factor code not accepted", "Account locked")),
    "bug": ("bug", 2, ("Export button does nothing", "Dashboard shows an error",
                        "Report totals look wrong", "App crashes when saving")),
    "integration": ("integration", 2, ("Webhook stopped firing", "API returns 500",
                                        "Sync with CRM is failing", "Rate limit questions")),
    "shipping": ("shipping", 0, ("Where is my order?", "Package arrived damaged",
                                  "Change delivery address", "Tracking number missing")),
    "onboarding": ("onboarding", 3, ("Help setting up our account", "Importing our data",
                                      "Training session request", "Adding new users")),
    "feature": ("feature_request", 0, ("Feature request: dark mode", "Can you add SSO?",
                                        "Bulk edit would help", "Custom fields on reports")),
    "outage": ("incident", 4, ("Service is down for our team", "Everything is very slow",
                                "Urgent: production impacted", "Data not loading")),
}

CUSTOMER_OPENERS = (
    "Hi, about \"{subject}\": can you help?",
    "Hello team, we have a problem. {subject}",
    "{subject}. This is blocking us, please advise.",
    "Good afternoon. {subject} Thanks in advance.",
    "Hi there, quick question. {subject}",
)

CUSTOMER_REPLIES = (
    "Thanks, I tried that but it still happens.",
    "Here is the screenshot you asked for.",
    "That worked, thank you!",
    "Any update on this?",
    "I have attached the requested details.",
    "It is better now but not completely fixed.",
)

AGENT_REPLIES = (
    "Thanks for reaching out. Could you send us a screenshot of the error?",
    "I have looked into this and applied a fix on our side. Can you try again?",
    "Thanks for your patience. This should now be resolved.",
    "I have forwarded this to our specialists and will update you shortly.",
    "Could you confirm which browser and version you are using?",
    "Happy to help! Here are the steps to do that.",
    "I have issued the refund; it will show within 5 business days.",
)

AGENT_FOLLOWUPS = (
    "Following up on your request about {subject_lc}.",
    "Hi, we noticed an issue with your account and wanted to reach out.",
    "Reaching out about your upcoming renewal.",
)

PRIVATE_NOTES = (
    "Checked logs, looks like a known issue.",
    "Customer is on the enterprise plan, prioritising.",
    "Asked engineering for input.",
    "Waiting on the payment provider to confirm.",
    "Reproduced on staging.",
)

TRIGGER_REPLY = (
    "Thank you for contacting us. Your request has been received and is being reviewed "
    "by our support staff."
)

CSAT_GOOD = ("Quick and helpful, thanks!", "Great support.", "Solved my problem fast.")
CSAT_BAD = ("Took too long.", "Problem is not really solved.", "Had to explain it three times.")
