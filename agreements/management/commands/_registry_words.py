"""Word lists for ``generate_registry``: places, names, topics and phrases in
German, English and Polish."""

import itertools

from agreements.choices import AgreementKind, ProgrammeItemKind

# country: (weight, [(region, [cities])], names in de/en/pl)
GEOGRAPHY = {
    "DE": (
        40,
        [
            ("Sachsen", ["Dresden", "Leipzig", "Chemnitz", "Zwickau", "Görlitz", "Freiberg", "Bautzen"]),
            ("Thüringen", ["Erfurt", "Jena", "Gera"]),
            ("Brandenburg", ["Cottbus", "Potsdam", "Frankfurt (Oder)"]),
            ("Bayern", ["München", "Nürnberg", "Regensburg"]),
            ("Berlin", ["Berlin"]),
        ],
        ("Deutschland", "Germany", "Niemcy"),
    ),
    "PL": (
        35,
        [
            ("Województwo śląskie", ["Katowice", "Gliwice", "Bielsko-Biała", "Tychy"]),
            ("Województwo dolnośląskie", ["Wrocław", "Legnica", "Wałbrzych", "Jelenia Góra"]),
            ("Województwo małopolskie", ["Kraków", "Tarnów"]),
            ("Województwo opolskie", ["Opole"]),
            ("Województwo lubuskie", ["Zielona Góra", "Gorzów Wielkopolski"]),
            ("Województwo mazowieckie", ["Warszawa"]),
        ],
        ("Polen", "Poland", "Polska"),
    ),
    "CZ": (
        12,
        [
            ("Ústecký kraj", ["Ústí nad Labem", "Děčín"]),
            ("Liberecký kraj", ["Liberec"]),
            ("Jihomoravský kraj", ["Brno"]),
            ("Praha", ["Praha"]),
        ],
        ("Tschechien", "Czechia", "Czechy"),
    ),
    "AT": (4, [("Oberösterreich", ["Linz"]), ("Steiermark", ["Graz"])], ("Österreich", "Austria", "Austria")),
    "SK": (
        3,
        [("Žilinský kraj", ["Žilina"]), ("Bratislavský kraj", ["Bratislava"])],
        ("Slowakei", "Slovakia", "Słowacja"),
    ),
    "LT": (2, [("Vilniaus apskritis", ["Vilnius"])], ("Litauen", "Lithuania", "Litwa")),
    "FR": (2, [("Grand Est", ["Strasbourg", "Metz"])], ("Frankreich", "France", "Francja")),
    "UA": (2, [("Lviv Oblast", ["Lviv"])], ("Ukraine", "Ukraine", "Ukraina")),
}
COUNTRY_CODES = list(GEOGRAPHY)
COUNTRY_WEIGHTS = list(itertools.accumulate(GEOGRAPHY[c][0] for c in COUNTRY_CODES))

# slug: (de, en, pl)
TOPICS = {
    "supply-chain-digitalisation": (
        "Digitalisierung von Zulieferketten",
        "Supply-chain digitalisation",
        "Cyfryzacja łańcuchów dostaw",
    ),
    "automotive-transformation": (
        "Transformation der Automobilindustrie",
        "Automotive transformation",
        "Transformacja motoryzacji",
    ),
    "software-development": ("Softwareentwicklung", "Software development", "Wytwarzanie oprogramowania"),
    "cross-border-networking": (
        "Grenzüberschreitende Vernetzung",
        "Cross-border networking",
        "Współpraca transgraniczna",
    ),
    "hydrogen": ("Wasserstoffwirtschaft", "Hydrogen economy", "Gospodarka wodorowa"),
    "microelectronics": ("Mikroelektronik", "Microelectronics", "Mikroelektronika"),
    "battery-value-chain": ("Batteriewertschöpfung", "Battery value chain", "Łańcuch wartości baterii"),
    "circular-economy": ("Kreislaufwirtschaft", "Circular economy", "Gospodarka o obiegu zamkniętym"),
    "water-management": ("Wasserwirtschaft", "Water management", "Gospodarka wodna"),
    "lightweight-construction": ("Leichtbau", "Lightweight construction", "Konstrukcje lekkie"),
    "mechanical-engineering": ("Maschinenbau", "Mechanical engineering", "Budowa maszyn"),
    "logistics": ("Logistik", "Logistics", "Logistyka"),
    "renewable-energy": ("Erneuerbare Energien", "Renewable energy", "Odnawialne źródła energii"),
    "artificial-intelligence": ("Künstliche Intelligenz", "Artificial intelligence", "Sztuczna inteligencja"),
    "cybersecurity": ("Cybersicherheit", "Cybersecurity", "Cyberbezpieczeństwo"),
    "rail-technology": ("Bahntechnik", "Rail technology", "Technika kolejowa"),
    "medical-technology": ("Medizintechnik", "Medical technology", "Technika medyczna"),
    "skilled-workers": ("Fachkräftesicherung", "Skilled workers", "Pozyskiwanie fachowców"),
    "vocational-training": ("Berufliche Bildung", "Vocational training", "Kształcenie zawodowe"),
    "research-transfer": ("Forschungstransfer", "Research transfer", "Transfer badań"),
    "tourism": ("Tourismus", "Tourism", "Turystyka"),
    "structural-change": ("Strukturwandel", "Structural change", "Transformacja regionów"),
    "smart-manufacturing": ("Intelligente Fertigung", "Smart manufacturing", "Inteligentna produkcja"),
    "textiles": ("Technische Textilien", "Technical textiles", "Tekstylia techniczne"),
    "photonics": ("Photonik", "Photonics", "Fotonika"),
    "biotechnology": ("Biotechnologie", "Biotechnology", "Biotechnologia"),
}
TOPIC_SLUGS = list(TOPICS)

SECTORS = [  # (de, en, pl) used in organisation names
    ("Automobilzulieferer", "Automotive Suppliers", "Motoryzacji"),
    ("Mikroelektronik", "Microelectronics", "Mikroelektroniki"),
    ("Software", "Software", "Oprogramowania"),
    ("Wasserstoff", "Hydrogen", "Wodoru"),
    ("Maschinenbau", "Mechanical Engineering", "Budowy Maszyn"),
    ("Logistik", "Logistics", "Logistyki"),
    ("Energie", "Energy", "Energii"),
    ("Leichtbau", "Lightweight Construction", "Konstrukcji Lekkich"),
    ("Medizintechnik", "Medical Technology", "Techniki Medycznej"),
    ("Bahntechnik", "Rail Technology", "Techniki Kolejowej"),
    ("Photonik", "Photonics", "Fotoniki"),
    ("Kunststofftechnik", "Plastics", "Tworzyw Sztucznych"),
]
SURNAMES_DE = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Richter",
    "Wolf",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Krüger",
    "Lehmann",
    "Hartmann",
    "Lange",
    "Vogel",
]
FIRST_DE = [
    "Anna",
    "Thomas",
    "Katrin",
    "Michael",
    "Sabine",
    "Andreas",
    "Julia",
    "Stefan",
    "Claudia",
    "Frank",
    "Martina",
    "Jens",
    "Susanne",
    "Matthias",
    "Petra",
    "Uwe",
    "Sandra",
    "Dirk",
    "Nadine",
    "Tobias",
]
SURNAMES_PL = [
    "Nowak",
    "Kowalski",
    "Wiśniewski",
    "Wójcik",
    "Kamiński",
    "Lewandowski",
    "Zieliński",
    "Szymański",
    "Woźniak",
    "Dąbrowski",
    "Kozłowski",
    "Jankowski",
    "Mazur",
    "Krawczyk",
    "Piotrowski",
    "Grabowski",
]
FIRST_PL = [
    "Agnieszka",
    "Piotr",
    "Katarzyna",
    "Tomasz",
    "Magdalena",
    "Paweł",
    "Joanna",
    "Marcin",
    "Anna",
    "Krzysztof",
    "Ewa",
    "Michał",
    "Barbara",
    "Łukasz",
    "Monika",
    "Grzegorz",
]
SURNAMES_CZ = ["Novák", "Svoboda", "Dvořák", "Černý", "Procházka", "Kučera", "Veselý", "Horák"]
FIRST_CZ = ["Jana", "Petr", "Lucie", "Jan", "Tereza", "Martin", "Eva", "Tomáš"]
POSITIONS = [  # (de, en, pl, weight, public by office)
    ("Geschäftsführerin", "Managing Director", "Dyrektor zarządzający", 30, False),
    ("Clustermanager", "Cluster Manager", "Menedżer klastra", 20, False),
    ("Vorstandsvorsitzender", "Chair of the Board", "Prezes zarządu", 15, False),
    ("Projektleiterin", "Project Lead", "Kierownik projektu", 20, False),
    (
        "Staatsminister für Regionalentwicklung",
        "State Minister for Regional Development",
        "Minister stanu ds. rozwoju regionalnego",
        3,
        True,
    ),
    (
        "Staatssekretärin für Wirtschaft",
        "State Secretary for Economic Affairs",
        "Sekretarz stanu ds. gospodarki",
        3,
        True,
    ),
    ("Oberbürgermeister", "Lord Mayor", "Nadburmistrz", 4, True),
    ("Marschall der Woiwodschaft", "Marshal of the Voivodeship", "Marszałek województwa", 3, True),
    ("Rektorin", "Rector", "Rektor", 4, True),
    ("Leiter Internationales", "Head of International Affairs", "Kierownik ds. międzynarodowych", 10, False),
]
POSITION_WEIGHTS = list(itertools.accumulate(p[3] for p in POSITIONS))

KIND_NAMES = {
    AgreementKind.COOPERATION_AGREEMENT: ("Kooperationsvereinbarung", "Cooperation agreement", "Umowa o współpracy"),
    AgreementKind.MEMORANDUM_OF_UNDERSTANDING: (
        "Memorandum of Understanding",
        "Memorandum of understanding",
        "Memorandum o porozumieniu",
    ),
    AgreementKind.LETTER_OF_INTENT: ("Absichtserklärung", "Letter of intent", "List intencyjny"),
    AgreementKind.FRAMEWORK_AGREEMENT: ("Rahmenvereinbarung", "Framework agreement", "Umowa ramowa"),
    AgreementKind.OTHER: ("Vereinbarung", "Agreement", "Porozumienie"),
}
KINDS = list(KIND_NAMES)
KIND_WEIGHTS = list(itertools.accumulate([50, 20, 15, 10, 5]))
AND = ("und", "and", "i")
BETWEEN = ("zwischen", "between", "między")

SUMMARIES = [
    (
        "Die Partner vereinbaren eine enge Zusammenarbeit im Bereich {topic}.",
        "The partners agree to work closely together on {topic}.",
        "Partnerzy uzgadniają ścisłą współpracę w obszarze: {topic}.",
    ),
    (
        "Ziel ist es, kleine und mittlere Unternehmen aus {city} mit Partnern jenseits der Grenze zu vernetzen.",
        "The aim is to connect small and medium-sized companies from {city} with partners across the border.",
        "Celem jest połączenie małych i średnich firm z miejscowości {city} z partnerami po drugiej stronie granicy.",
    ),
    (
        "Gemeinsame Messeauftritte, Delegationsreisen und Unternehmertreffen sind geplant.",
        "Joint trade-fair stands, delegation trips and business meetings are planned.",
        "Planowane są wspólne stoiska targowe, wyjazdy delegacji i spotkania przedsiębiorców.",
    ),
    (
        "Die Vereinbarung baut auf Pilotprojekten zu {topic} auf, die seit {year} laufen.",
        "The agreement builds on pilot projects on {topic} running since {year}.",
        "Porozumienie opiera się na projektach pilotażowych ({topic}) prowadzonych od {year} r.",
    ),
    (
        "Forschungseinrichtungen und Hochschulen werden in den Wissenstransfer einbezogen.",
        "Research institutes and universities are involved in the transfer of knowledge.",
        "W transfer wiedzy zaangażowane są instytuty badawcze i uczelnie.",
    ),
    (
        "Die Partner tauschen Fachkräfte und Auszubildende aus und entwickeln gemeinsame Weiterbildungen.",
        "The partners exchange specialists and apprentices and develop joint training courses.",
        "Partnerzy wymieniają specjalistów i praktykantów oraz opracowują wspólne szkolenia.",
    ),
]
OBJECTIVES = [
    ("gemeinsame Förderanträge", "joint funding applications", "wspólne wnioski o dofinansowanie"),
    ("Matchmaking-Veranstaltungen", "matchmaking events", "wydarzenia kojarzenia partnerów"),
    ("Austausch von Marktinformationen", "exchange of market information", "wymiana informacji rynkowych"),
    ("Pilotlinien und Testfelder", "pilot lines and test beds", "linie pilotażowe i poligony testowe"),
    ("Weiterbildungsprogramme", "training programmes", "programy szkoleniowe"),
    ("gemeinsame Forschungsprojekte", "joint research projects", "wspólne projekty badawcze"),
    ("Standardisierung von Datenformaten", "standardised data formats", "standaryzacja formatów danych"),
    ("Praktika für Studierende", "internships for students", "praktyki dla studentów"),
]
OBJECTIVE_LEAD = ("Ziele: ", "Objectives: ", "Cele: ")
TERMINATION_REASONS = [
    "Ersetzt durch eine neue Vereinbarung.",
    "Im gegenseitigen Einvernehmen beendet.",
    "Einer der Partner hat sich aufgelöst.",
    "Förderprogramm ausgelaufen.",
]
PROGRAMME_TITLES = {
    ProgrammeItemKind.FORUM: ("Wirtschaftsforum {city}", "{city} business forum", "Forum gospodarcze {city}"),
    ProgrammeItemKind.WORKSHOP: ("Werkstatt {topic}", "Workshop: {topic}", "Warsztaty: {topic}"),
    ProgrammeItemKind.MEETING: (
        "Gespräch im Rathaus {city}",
        "Meeting at {city} city hall",
        "Spotkanie w ratuszu {city}",
    ),
    ProgrammeItemKind.SITE_VISIT: ("Werksbesichtigung in {city}", "Site visit in {city}", "Wizyta w zakładzie, {city}"),
    ProgrammeItemKind.RECEPTION: ("Empfang in {city}", "Reception in {city}", "Przyjęcie w {city}"),
}
VENUES = [
    "Rathaus",
    "Kongresszentrum",
    "Technologiepark",
    "Hotel am Markt",
    "Międzynarodowe Centrum Kongresowe",
    "Urząd Marszałkowski",
    "Universität",
    "Specjalna Strefa Ekonomiczna",
    "Handelskammer",
]
