"""Generate the sample data of the catalog example (stdlib only, deterministic).

Writes, next to this script:

- products.jsonl      the product catalog the retrievers search and the clusters group
- tag_catalog.jsonl   the nodes of the flat taxonomy `product_tags`
- departments.jsonl   root nodes of the hierarchical taxonomy `product_hierarchy`
- categories.jsonl    child nodes of `product_hierarchy` (parent_label = a department label)

Run it from anywhere: `python examples/catalog/data/generate.py [OUT_DIR]`.
The output is a pure function of this file: a fixed random seed, no clock, no
environment lookups, sorted iteration. Tests re-run it and compare the result
with the committed files byte for byte, so edit the vocabulary here and commit
the regenerated files together with the change.

The descriptions are built from templates whose words match the tag and
category descriptions. The local backend embeds text lexically (hashed word
and character n-grams), so shared vocabulary is what makes a query, a tag or a
category find the right products; keep that in mind when adding templates.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

SEED = 20240611

# Hand-aligned vocabulary tables follow; keep the formatter off them.
# fmt: off

# --- taxonomy --------------------------------------------------------------------

DEPARTMENTS: list[tuple[str, str, str]] = [
    ("footwear", "Footwear",
     "Footwear: running shoes, trail running shoes, racing shoes, hiking boots, hiking shoes, approach "
     "shoes, sneakers, slip-on shoes, canvas shoes, oxford shoes, loafers, chelsea boots, sport "
     "sandals, slides and flip-flops."),
    ("apparel", "Apparel",
     "Apparel and clothing: rain jacket, down jacket, fleece jacket, softshell jacket, t-shirt, "
     "running shirt, flannel shirt, hoodie, hiking pants, running shorts, jeans and running tights."),
    ("accessories", "Accessories",
     "Accessories: daypack, hiking backpack, duffel bag, hip pack, cap, beanie, sun hat, running "
     "socks, hiking socks and dress socks."),
]

# (slug, department, label, description). Descriptions name the products the way
# titles do (singular jacket, plural shoes) so a title finds its category.
CATEGORIES: list[tuple[str, str, str, str]] = [
    ("running", "footwear", "Running shoes",
     "Running shoes: road running shoes, trail running shoes and racing shoes with cushioned, "
     "lightweight midsoles."),
    ("hiking", "footwear", "Hiking footwear",
     "Hiking footwear: hiking boots, hiking shoes and approach shoes with grippy lugged outsoles "
     "for trails and mountains."),
    ("casual", "footwear", "Casual sneakers",
     "Casual sneakers: sneakers, slip-on shoes and canvas shoes for everyday wear around town."),
    ("formal", "footwear", "Dress shoes",
     "Dress shoes: leather oxford shoes, loafers and chelsea boots for the office and formal "
     "occasions."),
    ("sandals", "footwear", "Sandals",
     "Sandals: sport sandals, slides and flip-flops for summer, the beach and the pool."),
    ("outerwear", "apparel", "Jackets and outerwear",
     "Jackets and outerwear: rain jacket, down jacket, fleece jacket and softshell jacket against "
     "wind, rain and cold."),
    ("tops", "apparel", "Shirts and tops",
     "Shirts and tops: t-shirt, running shirt, flannel shirt and hoodie, from cotton tees to "
     "technical tops."),
    ("bottoms", "apparel", "Pants and shorts",
     "Pants and shorts: hiking pants, running shorts, jeans and running tights."),
    ("bags", "accessories", "Bags and backpacks",
     "Bags and backpacks: daypack, hiking backpack, duffel bag and hip pack for commuting, travel "
     "and trails."),
    ("headwear", "accessories", "Hats and caps",
     "Hats and caps: cap, beanie and sun hat for sun, cold and everyday style."),
    ("socks", "accessories", "Socks",
     "Socks: running socks, hiking socks and dress socks."),
]

# --- product features ------------------------------------------------------------


@dataclass(frozen=True)
class Feature:
    adjective: str | None  # may lead the title ("Waterproof Hiking Boot")
    phrase: str  # a clause of the second description sentence
    tag: str | None  # the tag_catalog tag this feature earns


FEATURES: dict[str, Feature] = {
    "lightweight": Feature("Lightweight", "it is lightweight, so it never weighs you down", "lightweight"),
    "cushioned": Feature("Cushioned", "a thick cushioned foam midsole softens every stride", "cushioned"),
    "breathable": Feature(None, "breathable mesh panels keep air moving on hot days", "breathable"),
    "waterproof": Feature("Waterproof", "a waterproof membrane keeps you dry in rain, puddles and snow",
                          "waterproof"),
    "grippy": Feature(None, "a grippy rubber outsole with deep lugs bites into mud and loose rock", "traction"),
    "reflective": Feature(None, "reflective details keep you visible on night runs and dark commutes",
                          "reflective"),
    "recycled": Feature(None, "it is made with recycled polyester and recycled rubber", "recycled"),
    "insulated": Feature("Insulated", "insulation traps warmth on cold winter days", "insulated"),
    "packable": Feature("Packable", "it packs down small into its own pocket for travel", "packable"),
    "quickdry": Feature("Quick-Dry", "quick-drying materials shed sweat and water fast", "quick-dry"),
    "stretch": Feature("Stretch", "four-way stretch fabric moves with you", "stretch"),
    "windproof": Feature("Windproof", "a windproof shell blocks cold gusts on exposed ridges", "windproof"),
    "sun": Feature(None, "UPF 50 fabric gives sun protection on long days outside", "sun-protection"),
    "support": Feature("Supportive", "a supportive heel counter and stable platform steady tired legs",
                       "support"),
    "comfort": Feature(None, "a soft padded footbed makes it comfortable all day", "comfort"),
    "soft": Feature(None, "a soft, brushed feel makes it comfortable all day", "comfort"),
    "padded": Feature("Cushioned", "a cushioned terry sole pads the heel and forefoot", "cushioned"),
    "weatherproof": Feature(None, "a waterproof coating keeps the contents dry in rain", "waterproof"),
    "durable": Feature(None, "reinforced stitching and tough materials make it durable for years of use",
                       "durable"),
    "organized": Feature(None, "zippered pockets and a padded laptop sleeve keep gear organized", "organization"),
    "odor": Feature(None, "merino wool fibers resist odor and regulate temperature", "merino"),
}

# Materials: (material value, phrase used in the first sentence, tag or None)
MATERIALS: dict[str, tuple[str, str, str | None]] = {
    "mesh": ("mesh", "an engineered mesh upper", None),
    "knit": ("knit", "a sock-like knit upper", None),
    "leather": ("leather", "a full-grain leather upper", "leather"),
    "suede": ("suede", "a soft suede upper", "leather"),
    "nubuck": ("leather", "a waterproofed nubuck leather upper", "leather"),
    "canvas": ("canvas", "a sturdy cotton canvas upper", None),
    "synthetic": ("synthetic", "a synthetic upper with a rubber toe cap", None),
    "rubber": ("rubber", "a molded rubber footbed", None),
    "nylon": ("nylon", "a ripstop nylon shell", None),
    "nylonfabric": ("nylon", "a lightweight ripstop nylon fabric", None),
    "nylonbag": ("nylon", "a tough ripstop nylon body", None),
    "polybag": ("polyester", "a tough polyester body", None),
    "webbing": ("synthetic", "recycled polyester webbing straps", "recycled"),
    "polyester": ("polyester", "a soft polyester fabric", None),
    "down": ("down", "a nylon shell filled with responsibly sourced goose down", "insulated"),
    "fleece": ("fleece", "a brushed polyester fleece", None),
    "cotton": ("cotton", "soft organic cotton", None),
    "flannel": ("cotton", "a brushed cotton flannel", None),
    "merino": ("merino wool", "a merino wool blend", "merino"),
    "denim": ("denim", "a stretch cotton denim", None),
    "softshell": ("polyester", "a stretchy softshell fabric", None),
    "leatherbag": ("leather", "waxed canvas trimmed with full-grain leather", "leather"),
}


@dataclass(frozen=True)
class Subcategory:
    name: str  # the `subcategory` value, plural ("road running shoes")
    category: str
    noun: str  # title noun, singular ("Road Running Shoe")
    purpose: str  # "built for ..."
    materials: tuple[str, ...]
    features: tuple[str, ...]  # candidate features, 2 are drawn per product
    price: tuple[int, int]
    brands: tuple[str, ...]
    count: int
    tags: tuple[str, ...] = ()  # activity tags every product of the subcategory carries
    pair: bool = False  # sold as a pair: a plural title noun, "A pair of ..." in the description


SUBCATEGORIES: list[Subcategory] = [
    # footwear / running
    Subcategory("road running shoes", "running", "Road Running Shoes",
                "daily training runs and tempo workouts on pavement", ("mesh", "knit"),
                ("lightweight", "cushioned", "breathable", "reflective", "recycled", "support"),
                (95, 170), ("Stridewell", "Kestrel Athletics", "Lumen Outdoor"), 14, ("running",), pair=True),
    Subcategory("trail running shoes", "running", "Trail Running Shoes",
                "running on rocky trails and muddy singletrack", ("mesh", "synthetic"),
                ("grippy", "waterproof", "cushioned", "lightweight", "durable"),
                (110, 185), ("Lumen Outdoor", "Stridewell", "Ridgeline Supply"), 12,
                ("running", "trail-running"), pair=True),
    Subcategory("racing flats", "running", "Racing Shoes",
                "race day, from 5k races to the marathon", ("knit", "mesh"),
                ("lightweight", "breathable", "cushioned"),
                (140, 250), ("Kestrel Athletics", "Stridewell"), 8, ("running",), pair=True),
    # footwear / hiking
    Subcategory("hiking boots", "hiking", "Hiking Boots",
                "backpacking trips and day hikes on rough mountain trails", ("leather", "nubuck", "synthetic"),
                ("waterproof", "grippy", "support", "insulated", "durable"),
                (140, 260), ("Northpeak", "Ridgeline Supply", "Fjellmark"), 14, ("hiking",), pair=True),
    Subcategory("hiking shoes", "hiking", "Hiking Shoes",
                "fast day hikes and well-groomed trails", ("mesh", "suede", "synthetic"),
                ("waterproof", "grippy", "lightweight", "breathable"),
                (100, 160), ("Ridgeline Supply", "Northpeak"), 10, ("hiking",), pair=True),
    Subcategory("approach shoes", "hiking", "Approach Shoes",
                "scrambling on rock and approaching climbing crags", ("suede", "synthetic"),
                ("grippy", "durable", "support"),
                (110, 170), ("Ridgeline Supply", "Summit Forge"), 8, ("hiking",), pair=True),
    # footwear / casual
    Subcategory("sneakers", "casual", "Sneakers",
                "everyday wear around town", ("leather", "canvas", "knit", "suede"),
                ("comfort", "recycled", "lightweight", "breathable"),
                (60, 130), ("Urbanfield", "Cinder & Co.", "Harbor Lane"), 16, ("casual",), pair=True),
    Subcategory("slip-on shoes", "casual", "Slip-On Shoes",
                "easy errands, travel days and relaxed weekends", ("canvas", "knit", "suede"),
                ("comfort", "lightweight", "recycled"),
                (50, 95), ("Urbanfield", "Tidewater"), 10, ("casual",), pair=True),
    Subcategory("canvas shoes", "casual", "Canvas Shoes",
                "summer days and casual outfits", ("canvas",),
                ("comfort", "lightweight", "durable"),
                (45, 80), ("Cinder & Co.", "Urbanfield"), 8, ("casual",), pair=True),
    # footwear / formal
    Subcategory("oxford shoes", "formal", "Oxford Shoes",
                "the office, weddings and formal events", ("leather",),
                ("comfort", "durable"),
                (140, 320), ("Alder & Finch", "Harbor Lane"), 10, ("formal",), pair=True),
    Subcategory("loafers", "formal", "Loafers",
                "smart casual outfits, the office and travel", ("leather", "suede"),
                ("comfort", "durable", "lightweight"),
                (120, 280), ("Alder & Finch", "Harbor Lane"), 10, ("formal",), pair=True),
    Subcategory("chelsea boots", "formal", "Chelsea Boots",
                "city evenings and smart winter outfits", ("leather", "suede"),
                ("waterproof", "durable", "comfort"),
                (150, 300), ("Harbor Lane", "Alder & Finch"), 8, ("formal",), pair=True),
    # footwear / sandals
    Subcategory("sport sandals", "sandals", "Sport Sandals",
                "river crossings, hikes and beach days", ("webbing",),
                ("grippy", "quickdry", "comfort", "support"),
                (50, 110), ("Tidewater", "Lumen Outdoor"), 10, ("summer",), pair=True),
    Subcategory("slides", "sandals", "Slides",
                "pool decks, recovery days and summer", ("rubber",),
                ("comfort", "quickdry", "recycled"),
                (25, 60), ("Tidewater", "Cinder & Co."), 8, ("summer",), pair=True),
    Subcategory("flip-flops", "sandals", "Flip-Flops",
                "the beach, the pool and hot summer days", ("rubber",),
                ("comfort", "quickdry", "lightweight"),
                (20, 45), ("Tidewater",), 6, ("summer",), pair=True),
    # apparel / outerwear
    Subcategory("rain jackets", "outerwear", "Rain Jacket",
                "stormy hikes, wet commutes and travel", ("nylon",),
                ("waterproof", "packable", "breathable", "windproof"),
                (120, 300), ("Northpeak", "Lumen Outdoor", "Fjellmark"), 12, ("hiking", "travel")),
    Subcategory("down jackets", "outerwear", "Down Jacket",
                "cold winter days, ski trips and camp evenings", ("down",),
                ("insulated", "packable", "windproof", "waterproof"),
                (180, 400), ("Summit Forge", "Fjellmark", "Northpeak"), 12, ("winter",)),
    Subcategory("fleece jackets", "outerwear", "Fleece Jacket",
                "layering on chilly mornings and campfire nights", ("fleece",),
                ("insulated", "breathable", "recycled", "stretch"),
                (60, 140), ("Northpeak", "Urbanfield", "Fjellmark"), 10, ("winter",)),
    Subcategory("softshell jackets", "outerwear", "Softshell Jacket",
                "active days in wind and light drizzle", ("softshell",),
                ("windproof", "stretch", "breathable"),
                (110, 220), ("Summit Forge", "Lumen Outdoor"), 8, ("hiking",)),
    # apparel / tops
    Subcategory("t-shirts", "tops", "T-Shirt",
                "everyday wear and layering", ("cotton", "merino"),
                ("soft", "recycled", "odor", "breathable"),
                (20, 50), ("Cinder & Co.", "Tidewater", "Urbanfield"), 12, ("casual",)),
    Subcategory("running shirts", "tops", "Running Shirt",
                "hot training runs and races", ("polyester", "merino"),
                ("quickdry", "breathable", "reflective", "lightweight"),
                (30, 70), ("Stridewell", "Kestrel Athletics", "Lumen Outdoor"), 12, ("running",)),
    Subcategory("flannel shirts", "tops", "Flannel Shirt",
                "cabin weekends and cool autumn days", ("flannel",),
                ("soft", "durable"),
                (45, 95), ("Harbor Lane", "Northpeak"), 8, ("casual",)),
    Subcategory("hoodies", "tops", "Hoodie",
                "lounging, travel and cool evenings", ("cotton", "fleece"),
                ("soft", "recycled", "stretch"),
                (55, 115), ("Urbanfield", "Cinder & Co."), 10, ("casual",)),
    # apparel / bottoms
    Subcategory("hiking pants", "bottoms", "Hiking Pants",
                "long days on the trail", ("nylonfabric", "softshell"),
                ("stretch", "quickdry", "durable", "sun", "windproof"),
                (65, 135), ("Ridgeline Supply", "Northpeak", "Fjellmark"), 12, ("hiking",), pair=True),
    Subcategory("running shorts", "bottoms", "Running Shorts",
                "interval sessions and hot-weather runs", ("polyester",),
                ("lightweight", "quickdry", "reflective", "breathable"),
                (30, 65), ("Stridewell", "Kestrel Athletics"), 10, ("running",), pair=True),
    Subcategory("jeans", "bottoms", "Jeans",
                "everyday wear, from the office to the weekend", ("denim",),
                ("stretch", "durable", "soft"),
                (60, 140), ("Harbor Lane", "Urbanfield"), 10, ("casual",), pair=True),
    Subcategory("running tights", "bottoms", "Running Tights",
                "cold-weather runs and long training sessions", ("polyester",),
                ("stretch", "reflective", "insulated", "quickdry"),
                (50, 100), ("Stridewell", "Lumen Outdoor"), 8, ("running", "winter"), pair=True),
    # accessories / bags
    Subcategory("daypacks", "bags", "Daypack",
                "commuting, day hikes and weekend errands", ("nylonbag", "polybag"),
                ("organized", "durable", "weatherproof", "recycled"),
                (50, 130), ("Ridgeline Supply", "Urbanfield", "Northpeak"), 10, ("travel",)),
    Subcategory("hiking backpacks", "bags", "Hiking Backpack",
                "multi-day backpacking and long day hikes", ("nylonbag",),
                ("durable", "organized", "weatherproof", "lightweight"),
                (130, 290), ("Summit Forge", "Northpeak"), 10, ("hiking",)),
    Subcategory("duffel bags", "bags", "Duffel Bag",
                "weekend trips, the gym and carry-on travel", ("nylonbag", "leatherbag"),
                ("durable", "packable", "weatherproof", "organized"),
                (80, 220), ("Alder & Finch", "Summit Forge", "Harbor Lane"), 8, ("travel",)),
    Subcategory("hip packs", "bags", "Hip Pack",
                "runs, festivals and hands-free travel", ("nylonbag", "polybag"),
                ("lightweight", "reflective", "organized"),
                (25, 65), ("Lumen Outdoor", "Ridgeline Supply"), 8, ("travel",)),
    # accessories / headwear
    Subcategory("baseball caps", "headwear", "Cap",
                "sunny runs, hikes and everyday style", ("cotton", "polyester"),
                ("sun", "quickdry", "breathable"),
                (20, 42), ("Tidewater", "Cinder & Co.", "Stridewell"), 10, ("summer",)),
    Subcategory("beanies", "headwear", "Beanie",
                "cold mornings, ski days and winter commutes", ("merino", "fleece"),
                ("insulated", "odor", "soft"),
                (20, 48), ("Fjellmark", "Northpeak", "Urbanfield"), 8, ("winter",)),
    Subcategory("sun hats", "headwear", "Sun Hat",
                "beach days, fishing trips and desert hikes", ("nylonfabric", "cotton"),
                ("sun", "packable", "quickdry"),
                (30, 60), ("Tidewater", "Ridgeline Supply"), 6, ("summer",)),
    # accessories / socks
    Subcategory("running socks", "socks", "Running Socks",
                "daily runs and race day", ("merino", "polyester"),
                ("padded", "breathable", "quickdry"),
                (12, 22), ("Stridewell", "Kestrel Athletics"), 8, ("running",), pair=True),
    Subcategory("hiking socks", "socks", "Hiking Socks",
                "long hikes in boots", ("merino",),
                ("padded", "odor", "durable"),
                (18, 30), ("Fjellmark", "Ridgeline Supply"), 8, ("hiking",), pair=True),
    Subcategory("dress socks", "socks", "Dress Socks",
                "the office and formal outfits", ("cotton", "merino"),
                ("soft", "durable"),
                (10, 24), ("Alder & Finch", "Harbor Lane"), 6, ("formal",), pair=True),
]

# Brand -> price tier multiplier. Invented names; any likeness is accidental.
BRANDS: dict[str, float] = {
    "Alder & Finch": 1.2,
    "Cinder & Co.": 0.95,
    "Fjellmark": 1.2,
    "Harbor Lane": 1.0,
    "Kestrel Athletics": 1.05,
    "Lumen Outdoor": 1.05,
    "Northpeak": 1.15,
    "Ridgeline Supply": 1.0,
    "Stridewell": 1.0,
    "Summit Forge": 1.2,
    "Tidewater": 0.9,
    "Urbanfield": 0.9,
}

# Model names per category; a product is "<brand> <model> [<adjective>] <noun>".
MODELS: dict[str, tuple[str, ...]] = {
    "running": ("Tempo", "Glide", "Vela", "Pacer", "Aero", "Surge", "Stride", "Flux", "Cadence", "Comet"),
    "hiking": ("Ridgeback", "Talus", "Cairn", "Summit", "Scree", "Basin", "Granite", "Alpine", "Traverse"),
    "casual": ("Court", "Metro", "Harbor", "Sunday", "Avenue", "Dockside", "Union", "Corner"),
    "formal": ("Windsor", "Ashford", "Kensington", "Marlow", "Belgrave", "Sterling", "Hampton"),
    "sandals": ("Riptide", "Shoal", "Lagoon", "Coral", "Driftwood", "Sandbar"),
    "outerwear": ("Storm", "Squall", "Aurora", "Nimbus", "Polar", "Ember", "Fjord", "Gale", "Cirrus"),
    "tops": ("Essential", "Pace", "Camp", "Daily", "Lodge", "Breeze", "Core", "Weekend"),
    "bottoms": ("Switchback", "Tempo", "Drift", "Classic", "Trek", "Sprint", "Canyon", "Rover"),
    "bags": ("Transit", "Ridge", "Voyager", "Nomad", "Pathfinder", "Carryall", "Scout"),
    "headwear": ("Sunrise", "Frost", "Shade", "Trailhead", "Harbor", "Beacon"),
    "socks": ("Cloud", "Trail", "Everyday", "Crew", "Summit", "Tempo"),
}

# Colour palettes per category: nobody sells green oxford shoes.
COLORS: dict[str, tuple[str, ...]] = {
    "running": ("black", "white", "grey", "blue", "red", "navy", "green"),
    "hiking": ("brown", "tan", "olive", "grey", "black"),
    "casual": ("white", "black", "navy", "grey", "tan", "green", "red"),
    "formal": ("black", "brown", "tan", "burgundy"),
    "sandals": ("black", "tan", "navy", "blue", "olive", "sand"),
    "outerwear": ("black", "navy", "olive", "red", "blue", "charcoal", "green"),
    "tops": ("white", "black", "grey", "navy", "olive", "red", "blue"),
    "bottoms": ("black", "charcoal", "navy", "olive", "tan", "blue"),
    "bags": ("black", "grey", "olive", "navy", "tan", "red"),
    "headwear": ("black", "navy", "olive", "tan", "grey", "red", "sand"),
    "socks": ("black", "grey", "navy", "white", "charcoal"),
}

# The tag catalog: (tag, label, description). Descriptions use the same words as
# the product templates so a product title finds its tags by lexical overlap.
TAGS: list[tuple[str, str, str]] = [
    ("footwear", "Footwear",
     "Footwear: shoes, boots, sneakers, sandals, slides, loafers, running shoes and hiking boots."),
    ("apparel", "Apparel",
     "Apparel and clothing: jackets, shirts, t-shirts, hoodies, pants, shorts, jeans and tights."),
    ("accessories", "Accessories",
     "Accessories: bags, backpacks, daypacks, duffel bags, hip packs, caps, hats, beanies and socks."),
    ("running", "Running",
     "Running gear for road running: running shoes, racing shoes, running shirts, running shorts, "
     "running tights and running socks."),
    ("trail-running", "Trail running",
     "Trail running shoes and gear for running on rocky trails, mud and singletrack."),
    ("hiking", "Hiking",
     "Hiking gear: hiking boots, hiking shoes, approach shoes, hiking pants, hiking backpacks and "
     "hiking socks for trails and mountains."),
    ("casual", "Casual",
     "Casual everyday style: sneakers, leather and canvas sneakers, slip-on shoes, t-shirts, hoodies, "
     "flannel shirts and jeans."),
    ("formal", "Formal",
     "Formal and office wear: oxford shoes, loafers, chelsea boots and dress socks for weddings "
     "and the office."),
    ("summer", "Summer",
     "Summer and beach: sandals, sport sandals, slides, flip-flops, caps and sun hats for hot days."),
    ("winter", "Winter",
     "Winter and cold weather: down jackets, fleece jackets, beanies and insulated layers for snow "
     "and cold days."),
    ("travel", "Travel",
     "Travel gear: duffel bags, daypacks, hip packs and packable rain jackets for trips and commutes."),
    ("waterproof", "Waterproof",
     "Waterproof: a waterproof membrane or shell keeps you dry in rain, puddles and snow; rain "
     "jackets and waterproof boots."),
    ("insulated", "Insulated",
     "Insulated: warm down or synthetic insulation that traps heat on cold winter days."),
    ("lightweight", "Lightweight",
     "Lightweight: light, low-weight shoes and gear for fast and easy miles."),
    ("breathable", "Breathable",
     "Breathable: mesh panels and airy fabrics that keep air moving on hot days."),
    ("cushioned", "Cushioned",
     "Cushioned: thick foam midsoles and padded cushioning that soften every stride."),
    ("traction", "Traction",
     "Traction: grippy rubber outsoles with deep lugs for mud, loose rock and wet trails."),
    ("reflective", "Reflective",
     "Reflective details for visibility on night runs and dark commutes."),
    ("recycled", "Recycled materials",
     "Recycled materials: made with recycled polyester, recycled nylon and recycled rubber."),
    ("packable", "Packable",
     "Packable: packs down small into its own pocket, easy to carry when you travel."),
    ("quick-dry", "Quick-dry",
     "Quick-dry fabrics that shed sweat and water fast and dry quickly."),
    ("stretch", "Stretch",
     "Stretch: four-way stretch fabric that moves with you."),
    ("windproof", "Windproof",
     "Windproof shells that block cold wind and gusts on exposed ridges."),
    ("sun-protection", "Sun protection",
     "Sun protection: UPF 50 fabrics, sun hats and caps that shade you from the sun."),
    ("support", "Support",
     "Support and stability: supportive heel counters and stable platforms for tired legs."),
    ("comfort", "Comfort",
     "All-day comfort: soft padded footbeds and soft fabrics that are comfortable all day."),
    ("durable", "Durable",
     "Durable: reinforced stitching and tough materials built for years of use."),
    ("organization", "Organization",
     "Organization: zippered pockets and a padded laptop sleeve to keep gear organized."),
    ("leather", "Leather",
     "Leather: full-grain leather, suede and nubuck for boots, dress shoes, loafers and bags."),
    ("merino", "Merino wool",
     "Merino wool that regulates temperature and resists odor in socks, shirts and beanies."),
]

# fmt: on


def _department_of(category: str) -> str:
    for slug, department, _label, _description in CATEGORIES:
        if slug == category:
            return department
    raise KeyError(category)


def _price(rng: random.Random, low: int, high: int, tier: float) -> float:
    """A shelf price: ends in .00, .50, .95 or .99 like real price lists."""
    whole = int(rng.uniform(low, high) * tier)
    return whole + rng.choice((0.0, 0.5, 0.95, 0.99))


def _rating(rng: random.Random) -> float:
    # Most products are well reviewed, a tail is not (useful for rating filters).
    if rng.random() < 0.12:
        return round(rng.uniform(2.0, 3.4), 1)
    return round(rng.uniform(3.5, 4.9), 1)


def _product(rng: random.Random, sub: Subcategory, used_titles: set[str]) -> dict[str, object]:
    brand = rng.choice(sub.brands)
    material_key = rng.choice(sub.materials)
    material, material_phrase, material_tag = MATERIALS[material_key]
    first, second = rng.sample(sub.features, 2)
    color = rng.choice(COLORS[sub.category])
    lead = FEATURES[first]
    for _ in range(50):
        model = rng.choice(MODELS[sub.category])
        if rng.random() < 0.4:
            model = f"{model} {rng.randint(2, 6)}"
        adjective = f" {lead.adjective}" if lead.adjective and rng.random() < 0.6 else ""
        title = f"{brand} {model}{adjective} {sub.noun}"
        if title not in used_titles:
            break
    else:  # pragma: no cover - the vocabulary is large enough
        raise RuntimeError(f"cannot find a unique title for {sub.name}")
    used_titles.add(title)
    if sub.pair:
        subject = f"A pair of {sub.noun.lower()}"
    else:
        subject = f"{'An' if sub.noun[0] in 'AEIOU' else 'A'} {sub.noun.lower()}"
    opening = f"{subject} in {color} with {material_phrase}, built for {sub.purpose}."
    second_sentence = f"{_capitalize(_phrase(first, sub.pair))}, and {_phrase(second, sub.pair)}."
    department = _department_of(sub.category)
    tags = {department, *sub.tags}
    for key in (first, second):
        if FEATURES[key].tag:
            tags.add(str(FEATURES[key].tag))
    if material_tag:
        tags.add(material_tag)
    return {
        "title": title,
        "description": f"{opening} {second_sentence}",
        "department": department,
        "category": sub.category,
        "subcategory": sub.name,
        "brand": brand,
        "price": round(_price(rng, sub.price[0], sub.price[1], BRANDS[brand]), 2),
        "rating": _rating(rng),
        "review_count": rng.randint(0, 2400),
        "in_stock": rng.random() < 0.88,
        "color": color,
        "material": material,
        "tags": sorted(tags),
    }


# Feature phrases are written for one item ("it is"); pairs need the plural.
_PLURAL = (
    ("it is lightweight, so it never weighs", "they are lightweight, so they never weigh"),
    ("it is made", "they are made"),
    ("makes it ", "makes them "),
    ("make it ", "make them "),
)


def _phrase(key: str, pair: bool) -> str:
    text = FEATURES[key].phrase
    if pair:
        for singular, plural in _PLURAL:
            text = text.replace(singular, plural)
    return text


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def products() -> list[dict[str, object]]:
    """The product catalog, in a stable shuffled order with sequential ids."""
    rng = random.Random(SEED)
    used: set[str] = set()
    items = [_product(rng, sub, used) for sub in SUBCATEGORIES for _ in range(sub.count)]
    rng.shuffle(items)
    return [{"document_id": f"doc_prod{i:04d}", **item} for i, item in enumerate(items, start=1)]


def tag_catalog() -> list[dict[str, object]]:
    return [
        {"document_id": f"doc_tag{i:03d}", "tag": tag, "label": label, "description": description}
        for i, (tag, label, description) in enumerate(TAGS, start=1)
    ]


def departments() -> list[dict[str, object]]:
    return [
        {"document_id": f"doc_dept{i:02d}", "department": slug, "label": label, "description": description}
        for i, (slug, label, description) in enumerate(DEPARTMENTS, start=1)
    ]


def categories() -> list[dict[str, object]]:
    labels = {slug: label for slug, label, _description in DEPARTMENTS}
    return [
        {
            "document_id": f"doc_cat{i:02d}",
            "category": slug,
            "label": label,
            "description": description,
            "parent_label": labels[department],
        }
        for i, (slug, department, label, description) in enumerate(CATEGORIES, start=1)
    ]


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    # newline="\n" keeps the bytes identical on Windows, where the tests compare them.
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def generate(out_dir: Path) -> list[Path]:
    """Write every data file into ``out_dir``; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "products.jsonl": products(),
        "tag_catalog.jsonl": tag_catalog(),
        "departments.jsonl": departments(),
        "categories.jsonl": categories(),
    }
    written = []
    for name, rows in files.items():
        path = out_dir / name
        _write_jsonl(path, rows)
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    for path in generate(out_dir):
        print(f"wrote {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
