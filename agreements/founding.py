"""The founding example: the Saxon delegation trip to Poland in October 2021.

Facts come from ``shared/seed/FACTS.md`` (the AMZ press release, the simul+
report, the trip announcement and the AMZ country-focus report); the texts
are our own. ``load_founding_data()`` is idempotent and polite to staff:

* a record that does not exist yet is created;
* a record last written by this loader is brought up to date (or left alone
  when nothing differs);
* a record staff have edited since, or deleted, is skipped and reported.

Whether the loader or a person wrote a record last is read from its change
history (django-simple-history), where the loader leaves ``FOUNDING_REASON``.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models, transaction

from .choices import (
    AgreementKind,
    AgreementStatus,
    DatePrecision,
    OrganisationKind,
    PartyRole,
    ProgrammeItemKind,
    SourceKind,
)
from .models import (
    Agreement,
    AgreementParty,
    AgreementSource,
    DelegationTrip,
    Organisation,
    Person,
    ProgrammeItem,
    SigningEvent,
    Topic,
    TripStop,
)

FOUNDING_REASON = "founding data"

SIGNING_DAY = datetime.date(2021, 10, 7)

SOURCE_PR = {
    "kind": SourceKind.PRESS_RELEASE,
    "title": "AMZ und Silicon Saxony unterzeichnen in Polen Kooperationsvereinbarungen",
    "url": "https://amz-sachsen.de/news/amz-und-silicon-saxony-unterzeichnen-in-polen-kooperationsvereinbarungen",
    "publisher": "Netzwerk Automobilzulieferer Sachsen (AMZ)",
    "published_on": SIGNING_DAY,
}
SOURCE_SIMUL = {
    "kind": SourceKind.REPORT,
    "title": "simul+Werkstatt „Regionale Wertschöpfung in Zeiten der Digitalisierung“ in Kattowitz",
    "url": "https://simulplus.sachsen.de/simul-werkstatt-regionale-wertschoepfung-in-zeiten-der-digitalisierung-in-kattowitz-28480.html",
    "publisher": "simul+ (Sächsisches Staatsministerium für Regionalentwicklung)",
    "published_on": SIGNING_DAY,
}
SOURCE_AUTOLAND = {
    "kind": SourceKind.REPORT,
    "title": "Polen und die USA im AMZ-Länderfokus 2022",
    "url": "https://www.autoland-sachsen.com/polen-und-die-usa-im-amz-laenderfokus-2022/",
    "publisher": "Autoland Sachsen",
    "published_on": datetime.date(2022, 3, 24),
}


def tr(name: str, *, de: str, en: str, pl: str = "") -> dict[str, str]:
    """The per-language fields of one translated text."""
    return {f"{name}_de": de, f"{name}_en": en, f"{name}_pl": pl}


def place(latitude: str, longitude: str, source: str) -> dict:
    """Where the map pages draw an organisation: a city centre's coordinates
    (degrees, rounded to 0.01°, about a kilometre) and where they come from."""
    return {"latitude": Decimal(latitude), "longitude": Decimal(longitude), "coordinates_source": source}


CITY_CENTRE = "City centre of %s (WGS 84, rounded to 0.01°)"


@dataclass
class Report:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class _Loader:
    def __init__(self):
        self.report = Report()

    def upsert(
        self, model: type[models.Model], lookup: dict, values: dict, m2m: dict[str, list] | None = None
    ) -> models.Model | None:
        """Create or refresh one record; return it, or None if staff deleted it."""
        m2m = m2m or {}
        label = f"{model._meta.verbose_name} " + " / ".join(str(getattr(v, "slug", v)) for v in lookup.values())
        obj = model.objects.filter(**lookup).first()
        if obj is None:
            if model.history.filter(**lookup).exists():
                self.report.skipped.append(f"{label}: deleted or renamed by staff, not re-created")
                return None
            obj = model(**lookup, **values)
            self._save(obj, m2m)
            self.report.created.append(label)
            return obj

        last = obj.history.first()
        if last is None or last.history_change_reason != FOUNDING_REASON:
            who = getattr(last, "history_user", None) or "someone"
            when = f" on {last.history_date:%Y-%m-%d %H:%M}" if last else ""
            self.report.skipped.append(f"{label}: edited by {who}{when}, left as it is")
            return obj

        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        changed += [
            name
            for name, items in m2m.items()
            if set(getattr(obj, name).values_list("pk", flat=True)) != {item.pk for item in items}
        ]
        if not changed:
            self.report.unchanged.append(label)
            return obj
        for name in changed:
            if name in values:
                setattr(obj, name, values[name])
        self._save(obj, {name: items for name, items in m2m.items() if name in changed})
        self.report.updated.append(f"{label} ({', '.join(changed)})")
        return obj

    @staticmethod
    def _save(obj: models.Model, m2m: dict[str, list]) -> None:
        obj.full_clean()
        obj._change_reason = FOUNDING_REASON
        obj.save()
        for name, items in m2m.items():
            getattr(obj, name).set(items)


@transaction.atomic
def load_founding_data() -> Report:
    """Load (or refresh) the founding example. All or nothing."""
    loader = _Loader()
    up = loader.upsert

    # Organisations -------------------------------------------------------
    amz = up(
        Organisation,
        {"slug": "amz"},
        {
            "name": "Netzwerk Automobilzulieferer Sachsen",
            "short_name": "AMZ",
            "kind": OrganisationKind.CLUSTER,
            "country": "DE",
            "region": "Sachsen",
            "website": "https://amz-sachsen.de/",
            # No source names the network's city: the map draws it in the middle of its region.
            **place("51.00", "13.40", "Approximate centre of Saxony: the region recorded, no city (WGS 84)"),
            "language": "de",
            **tr(
                "description",
                de="Netzwerk der Automobilzulieferer in Sachsen, das kleine und mittlere Zulieferbetriebe "
                "vernetzt und bei der Transformation der Automobilindustrie begleitet.",
                en="Saxony's network of automotive suppliers, connecting small and medium-sized supplier "
                "companies and supporting them through the transformation of the automotive industry.",
                pl="Saksońska sieć dostawców branży motoryzacyjnej, łącząca małe i średnie firmy "
                "i wspierająca je w transformacji przemysłu motoryzacyjnego.",
            ),
        },
    )
    saam = up(
        Organisation,
        {"slug": "sa-am"},
        {
            "name": "Silesia Automotive & Advanced Manufacturing",
            "short_name": "SA&AM",
            "kind": OrganisationKind.CLUSTER,
            "country": "PL",
            "region": "Województwo śląskie",
            "city": "Katowice",
            **place("50.26", "19.02", CITY_CENTRE % "Katowice"),
            "language": "en",
            **tr(
                "description",
                de="Automobil- und Fertigungscluster in der Woiwodschaft Schlesien, dessen Kern in der "
                "Sonderwirtschaftszone Kattowitz liegt.",
                en="Automotive and advanced-manufacturing cluster in the Silesian Voivodeship, with its core "
                "in the Katowice Special Economic Zone.",
                pl="Klaster motoryzacyjny i zaawansowanego wytwarzania w województwie śląskim, którego trzon "
                "stanowi Katowicka Specjalna Strefa Ekonomiczna.",
            ),
        },
    )
    silicon_saxony = up(
        Organisation,
        {"slug": "silicon-saxony"},
        {
            "name": "Silicon Saxony e. V.",
            "short_name": "Silicon Saxony",
            "kind": OrganisationKind.ASSOCIATION,
            "country": "DE",
            "region": "Sachsen",
            "city": "Dresden",
            **place("51.05", "13.74", CITY_CENTRE % "Dresden"),
            "language": "de",
            **tr(
                "description",
                de="Eingetragener Verein und Branchennetzwerk der sächsischen Halbleiter-, Mikroelektronik- "
                "und Softwareindustrie.",
                en="Registered association and industry network of Saxony's semiconductor, microelectronics "
                "and software companies.",
                pl="Stowarzyszenie i sieć branżowa saksońskiego przemysłu półprzewodników, mikroelektroniki "
                "i oprogramowania.",
            ),
        },
    )
    soda = up(
        Organisation,
        {"slug": "soda"},
        {
            "name": "Software Development Association Poland",
            "short_name": "SoDA",
            "kind": OrganisationKind.ASSOCIATION,
            "country": "PL",
            # Its registered seat, as its privacy policy (sodapl.com) states.
            "city": "Kraków",
            **place("50.06", "19.94", CITY_CENTRE % "Kraków"),
            "language": "en",
            **tr(
                "description",
                de="Polnischer Verband der Unternehmen für Softwareentwicklung.",
                en="Polish association of software-development companies.",
                pl="Polskie stowarzyszenie firm zajmujących się wytwarzaniem oprogramowania.",
            ),
        },
    )
    ministry = up(
        Organisation,
        {"slug": "smr-sachsen"},
        {
            "name": "Sächsisches Staatsministerium für Regionalentwicklung",
            "short_name": "SMR",
            "kind": OrganisationKind.PUBLIC_AUTHORITY,
            "country": "DE",
            "region": "Sachsen",
            "city": "Dresden",
            **place("51.05", "13.74", CITY_CENTRE % "Dresden"),
            "language": "de",
            **tr(
                "description",
                de="Sächsisches Staatsministerium für Regionalentwicklung; es trägt die Initiative simul+ und "
                "leitete 2021 die Delegationsreise nach Polen.",
                en="Saxon State Ministry for Regional Development; it runs the simul+ initiative and led the "
                "2021 delegation trip to Poland.",
                pl="Saksońskie Ministerstwo Stanu ds. Rozwoju Regionalnego; prowadzi inicjatywę simul+ "
                "i kierowało w 2021 r. podróżą delegacji do Polski.",
            ),
        },
    )

    # People --------------------------------------------------------------
    schmidt = up(
        Person,
        {"slug": "thomas-schmidt"},
        {
            "name": "Thomas Schmidt",
            "organisation": ministry,
            "is_public": True,
            "language": "de",
            **tr(
                "position",
                de="Sächsischer Staatsminister für Regionalentwicklung",
                en="Saxon State Minister for Regional Development",
                pl="Saksoński minister stanu ds. rozwoju regionalnego",
            ),
        },
    )

    # Topics --------------------------------------------------------------
    def topic(slug, **names):
        return up(Topic, {"slug": slug}, {"language": "de", **tr("name", **names)})

    t_supply = topic(
        "supply-chain-digitalisation",
        de="Digitalisierung von Zulieferketten",
        en="Supply-chain digitalisation",
        pl="Cyfryzacja łańcuchów dostaw",
    )
    t_auto = topic(
        "automotive-transformation",
        de="Transformation der Automobilindustrie",
        en="Automotive transformation",
        pl="Transformacja przemysłu motoryzacyjnego",
    )
    t_sme = topic(
        "rural-sme-suppliers",
        de="Mittelständische Zulieferer im ländlichen Raum",
        en="SME suppliers in rural areas",
        pl="MŚP-dostawcy z obszarów wiejskich",
    )
    t_software = topic(
        "software-development", de="Softwareentwicklung", en="Software development", pl="Wytwarzanie oprogramowania"
    )
    t_network = topic(
        "cross-border-networking",
        de="Grenzüberschreitende Vernetzung",
        en="Cross-border networking",
        pl="Współpraca transgraniczna",
    )

    # The delegation trip and its programme -------------------------------
    trip = up(
        DelegationTrip,
        {"slug": "saxon-delegation-poland-2021"},
        {
            **tr(
                "title",
                de="Delegationsreise von Staatsminister Thomas Schmidt nach Polen",
                en="State Minister Thomas Schmidt's delegation trip to Poland",
                pl="Podróż delegacji ministra stanu Thomasa Schmidta do Polski",
            ),
            **tr(
                "purpose",
                de="Rund 30 Vertreterinnen und Vertreter sächsischer Unternehmen aus Digitalisierung und IT, "
                "Infrastruktur, Kreislaufwirtschaft, Wasserwirtschaft, Maschinen- und Leichtbau sowie "
                "Mobilität und sechs Forschungseinrichtungen reisten mit dem Minister nach Kattowitz, "
                "Krakau und Oppeln, um Kontakte zu polnischen Partnern zu knüpfen und zu vertiefen.",
                en="About 30 members from Saxon companies in digitalisation and IT, infrastructure, the "
                "circular economy, water, machinery and lightweight construction and mobility, together "
                "with six research institutions, travelled with the minister to Katowice, Kraków and Opole "
                "to build and deepen contacts with Polish partners.",
                pl="Około 30 przedstawicieli saksońskich firm z branż cyfryzacji i IT, infrastruktury, "
                "gospodarki o obiegu zamkniętym, gospodarki wodnej, budowy maszyn i konstrukcji lekkich "
                "oraz mobilności, a także sześciu instytucji badawczych, odwiedziło z ministrem Katowice, "
                "Kraków i Opole, aby nawiązać i pogłębić kontakty z polskimi partnerami.",
            ),
            "language": "de",
            "leader": schmidt,
            "organiser": ministry,
            "destination_country": "PL",
            "start_date": datetime.date(2021, 10, 6),
            "end_date": datetime.date(2021, 10, 9),
            "delegation_size": 30,
        },
        m2m={
            "participant_organisations": [o for o in (ministry, amz, silicon_saxony) if o],
            "participant_people": [p for p in (schmidt,) if p],
        },
    )

    event = None
    if trip is not None:
        for position, (city, arrival) in enumerate(
            [("Katowice", SIGNING_DAY), ("Kraków", None), ("Opole", datetime.date(2021, 10, 9))], start=1
        ):
            up(
                TripStop,
                {"trip": trip, "city": city},
                {"arrival_date": arrival, "departure_date": arrival, "position": position},
            )

        event = up(
            SigningEvent,
            {"slug": "katowice-2021-10-07"},
            {
                **tr(
                    "title",
                    de="Unterzeichnung sächsisch-polnischer Kooperationsvereinbarungen in Kattowitz",
                    en="Signing of Saxon-Polish cooperation agreements in Katowice",
                    pl="Podpisanie saksońsko-polskich umów o współpracy w Katowicach",
                ),
                **tr(
                    "description",
                    de="Im Rahmen der Delegationsreise unterzeichneten AMZ und SA&AM sowie Silicon Saxony und "
                    "SoDA in Anwesenheit von Staatsminister Thomas Schmidt je eine Kooperationsvereinbarung.",
                    en="During the delegation trip, AMZ and SA&AM, and Silicon Saxony and SoDA, each signed a "
                    "cooperation agreement in the presence of State Minister Thomas Schmidt.",
                    pl="W trakcie podróży delegacji AMZ i SA&AM oraz Silicon Saxony i SoDA podpisały umowy "
                    "o współpracy w obecności ministra stanu Thomasa Schmidta.",
                ),
                "language": "de",
                "date": SIGNING_DAY,
                "date_precision": DatePrecision.DAY,
                "city": "Katowice",
                "country": "PL",
                "trip": trip,
            },
            m2m={"people_present": [p for p in (schmidt,) if p]},
        )

        forum = up(
            ProgrammeItem,
            {"trip": trip, "kind": ProgrammeItemKind.FORUM, "date": SIGNING_DAY},
            {
                **tr(
                    "title",
                    de="1. Europäisches Zukunftsforum",
                    en="1st European Future Forum",
                    pl="I Europejskie Forum Przyszłości",
                ),
                **tr(
                    "description",
                    de="Forum unter der Schirmherrschaft des Europäischen Parlaments.",
                    en="Forum held under the patronage of the European Parliament.",
                    pl="Forum pod patronatem Parlamentu Europejskiego.",
                ),
                "language": "de",
                "city": "Katowice",
            },
        )
        up(
            ProgrammeItem,
            {"trip": trip, "kind": ProgrammeItemKind.WORKSHOP, "date": SIGNING_DAY},
            {
                **tr(
                    "title",
                    de="simul+Werkstatt „Regionale Wertschöpfung in Zeiten der Digitalisierung“",
                    en="simul+ workshop “Regional value creation in times of digitalisation”",
                    pl="Warsztat simul+ „Regionalne tworzenie wartości w dobie cyfryzacji”",
                ),
                **tr(
                    "description",
                    de="Sächsisch-schlesische Werkstatt im Rahmen des Zukunftsforums, am Vormittag vom Minister "
                    "eröffnet. Neben der sächsischen Delegation nahmen 40 Vertreter polnischer Unternehmen "
                    "und Forschungseinrichtungen teil, insgesamt 70 Teilnehmende.",
                    en="Saxon-Silesian workshop held within the Future Forum and opened by the minister in the "
                    "morning. Besides the Saxon delegation, 40 representatives of Polish companies and "
                    "research institutions took part: 70 participants in all.",
                    pl="Saksońsko-śląski warsztat w ramach Forum Przyszłości, otwarty rano przez ministra. "
                    "Oprócz delegacji saksońskiej wzięło w nim udział 40 przedstawicieli polskich firm "
                    "i instytucji badawczych – łącznie 70 uczestników.",
                ),
                "language": "de",
                "city": "Katowice",
                "participant_count": 70,
                "part_of": forum,
            },
        )
        up(
            ProgrammeItem,
            {"trip": trip, "kind": ProgrammeItemKind.SIGNING, "date": SIGNING_DAY},
            {
                **tr(
                    "title",
                    de="Unterzeichnung der Kooperationsvereinbarungen",
                    en="Signing of the cooperation agreements",
                    pl="Podpisanie umów o współpracy",
                ),
                **tr(
                    "description",
                    de="AMZ und SA&AM sowie Silicon Saxony und SoDA unterzeichnen Kooperationsvereinbarungen.",
                    en="AMZ and SA&AM, and Silicon Saxony and SoDA, sign cooperation agreements.",
                    pl="AMZ i SA&AM oraz Silicon Saxony i SoDA podpisują umowy o współpracy.",
                ),
                "language": "de",
                "city": "Katowice",
                "signing_event": event,
            },
        )

    # Agreements ------------------------------------------------------------
    def agreement(slug, parties, topics, sources, **values):
        obj = up(
            Agreement,
            {"slug": slug},
            {
                "kind": AgreementKind.COOPERATION_AGREEMENT,
                "status": AgreementStatus.SIGNED,
                "signed_on": SIGNING_DAY,
                "signed_on_precision": DatePrecision.DAY,
                "signing_event": event,
                "language": "de",
                "is_public": True,
                **values,
            },
            m2m={"topics": [t for t in topics if t]},
        )
        if obj is None:
            return
        for position, organisation in enumerate(parties, start=1):
            if organisation is not None:
                up(
                    AgreementParty,
                    {"agreement": obj, "organisation": organisation},
                    {"role": PartyRole.PARTY, "position": position},
                )
        for source in sources:
            up(
                AgreementSource,
                {"agreement": obj, "url": source["url"]},
                {k: v for k, v in source.items() if k != "url"},
            )

    agreement(
        "amz-sa-am-cooperation-2021",
        [amz, saam],
        [t_supply, t_auto, t_sme],
        [SOURCE_PR, SOURCE_SIMUL, SOURCE_AUTOLAND],
        **tr(
            "title",
            de="Kooperationsvereinbarung zwischen AMZ und SA&AM",
            en="Cooperation agreement between AMZ and SA&AM",
            pl="Umowa o współpracy między AMZ a SA&AM",
        ),
        **tr(
            "summary",
            de="Das sächsische Automobilzulieferernetzwerk AMZ und der schlesische Cluster SA&AM vereinbaren "
            "die Zusammenarbeit mittelständischer Automobilzulieferer aus dem ländlichen Raum.",
            en="The Saxon automotive-supplier network AMZ and the Silesian cluster SA&AM agree to bring "
            "together small and medium-sized automotive suppliers from rural areas.",
            pl="Saksońska sieć dostawców motoryzacyjnych AMZ i śląski klaster SA&AM uzgadniają współpracę "
            "małych i średnich dostawców motoryzacyjnych z obszarów wiejskich.",
        ),
        **tr(
            "objectives",
            de="Digitalisierung von Zulieferketten; Entwicklung gemeinsamer technischer Lösungen für den "
            "Transformationsprozess in der Automobilindustrie; Vertiefung der sächsisch-polnischen "
            "Zusammenarbeit und neue Kontakte.",
            en="Digitalising supply chains; developing joint technical solutions for the transformation of "
            "the automotive industry; deepening Saxon-Polish cooperation and widening it with new contacts.",
            pl="Cyfryzacja łańcuchów dostaw; wspólne rozwiązania techniczne dla transformacji przemysłu "
            "motoryzacyjnego; pogłębienie współpracy saksońsko-polskiej i nowe kontakty.",
        ),
    )
    agreement(
        "silicon-saxony-soda-cooperation-2021",
        [silicon_saxony, soda],
        [t_software, t_network],
        [SOURCE_PR, SOURCE_SIMUL],
        **tr(
            "title",
            de="Kooperationsvereinbarung zwischen Silicon Saxony und SoDA",
            en="Cooperation agreement between Silicon Saxony and SoDA",
            pl="Umowa o współpracy między Silicon Saxony a SoDA",
        ),
        **tr(
            "summary",
            de="Silicon Saxony e. V. und der polnische Verband für Softwareentwicklung SoDA vereinbaren eine "
            "enge Zusammenarbeit.",
            en="Silicon Saxony e. V. and the Polish Software Development Association SoDA agree to work "
            "closely together.",
            pl="Silicon Saxony e. V. i polskie stowarzyszenie SoDA uzgadniają ścisłą współpracę.",
        ),
        **tr(
            "objectives",
            de="Enge Kooperation aufbauen; Informationen austauschen; gemeinsame Branchenevents und "
            "Initiativen organisieren; sich gegenseitig beim Aufbau grenzübergreifender Netzwerke "
            "unterstützen.",
            en="Build close cooperation; exchange information; organise joint industry events and "
            "initiatives; support each other in building cross-border networks.",
            pl="Budowa ścisłej współpracy; wymiana informacji; wspólne wydarzenia branżowe i inicjatywy; "
            "wzajemne wsparcie w budowie sieci transgranicznych.",
        ),
    )
    return loader.report
