"""Word lists the synthetic subscription draws its people, companies and clients from."""

from __future__ import annotations

FIRST_NAMES = (
    "james", "mary", "robert", "patricia", "john", "jennifer", "michael", "linda", "david", "elizabeth",
    "william", "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah", "chris", "karen",
    "daniel", "lisa", "matthew", "nancy", "anthony", "betty", "mark", "sandra", "paul", "ashley",
    "steven", "kimberly", "andrew", "emily", "kevin", "donna", "brian", "michelle", "george", "carol",
    "edward", "amanda", "ronald", "melissa", "timothy", "deborah", "jason", "stephanie", "ryan", "rebecca",
    "jacob", "laura", "gary", "helen", "nicholas", "sharon", "eric", "cynthia", "priya", "wei",
    "fatima", "mateo", "yuki", "olga", "amara", "lars", "chen", "aisha", "diego", "ingrid",
)  # fmt: skip

LAST_NAMES = (
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez", "martinez",
    "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor", "moore", "jackson", "martin",
    "lee", "perez", "thompson", "white", "harris", "sanchez", "clark", "ramirez", "lewis", "robinson",
    "walker", "young", "allen", "king", "wright", "scott", "torres", "nguyen", "hill", "flores",
    "green", "adams", "nelson", "baker", "hall", "rivera", "campbell", "mitchell", "carter", "roberts",
    "patel", "kim", "singh", "mueller", "rossi", "tanaka", "okafor", "novak", "larsen", "dubois",
    "schmidt", "ivanova", "haddad", "silva", "kowalski", "oconnor", "fischer", "bauer", "sato", "costa",
)  # fmt: skip

COMPANY_WORDS = (
    "Acme", "Globex", "Initech", "Northwind", "Contoso", "Fabrikam", "Tailspin", "Wingtip", "Litware",
    "Proseware", "Lucerne", "Alpine", "Blue Yonder", "Coho", "Humongous", "Wide World", "Bluebird",
    "Redwood", "Summit", "Pinnacle", "Evergreen", "Horizon", "Keystone", "Lighthouse", "Meridian",
    "Nimbus", "Orion", "Polaris", "Quantum", "Riverbend", "Sequoia", "Silverline", "Stonebridge",
    "Sunrise", "Tidewater", "Vertex", "Willow", "Zenith", "Apex", "Beacon", "Cascade", "Cobalt",
    "Crescent", "Delta", "Echo", "Falcon", "Granite", "Harbor", "Ironwood", "Juniper", "Kestrel",
    "Lakeside", "Maple", "Nova", "Oakridge", "Pioneer", "Quarry", "Ridgeway", "Sapphire", "Terra",
    "Union", "Vista", "Westfield", "Yellowstone", "Zephyr", "Amber", "Birch", "Canyon", "Drift",
    "Ember", "Fjord", "Glacier", "Helix", "Indigo", "Jasper", "Kinetic", "Lumen", "Mosaic",
    "Northstar", "Onyx", "Prairie", "Radiant", "Solstice", "Tundra", "Velvet", "Wavelength", "Xenon",
    "Yarrow", "Zircon", "Bright", "Clearwater", "Copper", "Everest", "Frontier", "Golden", "Hillcrest",
)  # fmt: skip

COMPANY_SUFFIXES = (
    "Corp", "Inc", "Labs", "Systems", "Group", "Industries", "Technologies", "Partners", "Logistics",
    "Health", "Foods", "Media", "Analytics", "Software", "Holdings", "Solutions", "Networks", "Dynamics",
    "Energy", "Financial", "Retail", "Manufacturing", "Consulting", "Bank", "Insurance", "Robotics",
    "Biotech", "Airlines", "Capital", "Studios",
)  # fmt: skip

# Suffixes a company usually leaves out of its domain ("Acme Corp" lives at acme.com).
GENERIC_SUFFIXES = frozenset({"Corp", "Inc", "Group", "Holdings", "Industries", "Technologies"})

TLDS = (".com", ".com", ".com", ".com", ".io", ".co", ".net", ".ai")

TITLES = (
    "Account Executive", "Operations Manager", "Analyst", "Engineer", "Director of Sales", "VP Marketing",
    "Customer Success Manager", "Product Manager", "Finance Lead", "Administrator", "Designer", "Consultant",
)  # fmt: skip

DESKTOP_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 "
    "Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 "
    "Safari/537.36 Edg/121.0.2277.128",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
)
MOBILE_BROWSER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.64 "
    "Mobile Safari/537.36",
)
APP_AGENTS = (
    "FlowPilot/4.2.1 (iPhone; iOS 17.3; Scale/3.00)",
    "FlowPilot/4.2.0 (Linux; Android 14; Pixel 8)",
)
USER_AGENTS = DESKTOP_AGENTS + MOBILE_BROWSER_AGENTS + APP_AGENTS
BROWSERS = {  # user agent index -> (browser, version, operating system) for visitor metadata
    0: ("Chrome", "122.0.0", "Windows"),
    1: ("Chrome", "122.0.0", "Mac OS X"),
    2: ("Safari", "17.3", "Mac OS X"),
    3: ("Firefox", "123.0", "Windows"),
    4: ("Edge", "121.0.2277", "Windows"),
    5: ("Chrome", "122.0.0", "Linux"),
    6: ("Mobile Safari", "17.3", "iOS"),
    7: ("Chrome Mobile", "122.0.6261", "Android"),
    8: ("FlowPilot", "4.2.1", "iOS"),
    9: ("FlowPilot", "4.2.0", "Android"),
}

# (country, region, latitude, longitude) of the offices accounts sit in.
GEOS = (
    ("US", "ny", 40.71, -74.0),
    ("US", "ca", 37.77, -122.42),
    ("US", "tx", 30.27, -97.74),
    ("US", "il", 41.88, -87.63),
    ("US", "ma", 42.36, -71.06),
    ("GB", "eng", 51.51, -0.13),
    ("DE", "be", 52.52, 13.4),
    ("FR", "idf", 48.86, 2.35),
    ("CA", "on", 43.65, -79.38),
    ("AU", "nsw", -33.87, 151.21),
)
