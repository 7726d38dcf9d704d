"""The clean stage: page furniture out, every article sentence kept.

Scraped articles carry the page around them: share and comment widgets, reading-time badges,
bylines, related-article headlines, credit lines and agency tags. Left in, they make unrelated
articles look alike (every page of one site ends "Share / Leave a comment") and pollute names and
embeddings. Each kind of furniture has its named pattern below. All of them work on whole short
lines, or on the very end of the text, and are guarded so that a real sentence never matches: a
sentence lost is worse than a widget kept.

The vocabularies cover the widget labels and formulas of the major news languages (English, French,
Spanish, Portuguese, Italian, German, Dutch, Polish, Russian, Ukrainian, Turkish, Arabic, Persian,
Hebrew, Indonesian, Malay, Albanian, Chinese, Japanese, Korean, Hindi, Vietnamese); the structural
rules (all-caps lines, agency tags after the last sentence) need no vocabulary and work for any
language whose script has letter case.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata

from .records import RawDoc

__all__ = ["clean", "clean_text", "clean_title"]

# Furniture lines are short: a widget label, a badge or a byline fits in 120 characters; the
# shortest sentence lines in the samples are longer, and lines this short are only touched when a
# rule below matches them as a whole.
FURNITURE_MAX_CHARS = 120

# Comment-form notices and credit lines are sentences of their own, but still short.
NOTICE_MAX_CHARS = 200


def _label_key(text: str) -> str:
    """Case-folded letters and spaces only, without diacritics: how widget labels are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(
        ch if ch.isalpha() else " " for ch in decomposed if unicodedata.category(ch) not in ("Mn", "Me")
    )
    return unicodedata.normalize("NFC", " ".join(letters.split()))

# 1. Share, comment and print widgets: lines made only of these labels (compared in the form
# _label_key gives: case-folded, without diacritics, punctuation or counts such as "(3)").
WIDGET_LABELS = (
    # English
    "share", "share this", "share this article", "share this story", "share this post",
    "share article", "tweet", "email", "e mail", "print", "comment", "comments",
    "leave a comment", "leave a reply", "post a comment", "add a comment", "view comments",
    "show comments", "write a comment", "copy link", "follow us", "subscribe",
    # French
    "partager", "partagez", "partager cet article", "commenter", "commentaires",
    "laisser un commentaire", "laissez un commentaire", "imprimer", "copier le lien", "réagir",
    # Spanish, Portuguese
    "compartir", "compartir artículo", "comentar", "comentarios", "deja un comentario",
    "dejar un comentario", "deja tu comentario", "imprimir", "copiar enlace", "compartilhar",
    "partilhar", "comentários", "deixe um comentário", "deixe seu comentário",
    # Italian
    "condividi", "condividi articolo", "commenta", "commenti", "lascia un commento", "stampa",
    # German, Dutch, Polish
    "teilen", "artikel teilen", "kommentieren", "kommentare", "kommentar schreiben", "drucken",
    "link kopieren", "delen", "deel dit artikel", "reageren", "reacties", "udostępnij",
    "komentarze", "skomentuj", "drukuj",
    # Russian, Ukrainian
    "поделиться", "комментировать", "комментарии", "оставить комментарий",
    "оставьте комментарий", "печать", "поділитися", "коментарі", "коментувати",
    # Turkish, Indonesian, Malay, Albanian
    "paylaş", "yorum yap", "yorumlar", "yorum yaz", "bagikan", "bagikan artikel ini",
    "kongsi", "kongsi artikel ini", "komentar", "komen", "tinggalkan komentar",
    "tinggalkan komen", "shpërndaje", "shpërnda", "komento", "komentet", "lini një koment",
    # Arabic, Persian, Hebrew
    "شارك", "شارك المقال", "شارك الخبر", "شارك هذا المقال", "مشاركة", "اترك تعليقك",
    "اترك تعليقا", "اترك ردا", "أضف تعليق", "أضف تعليقك", "اضف تعليق", "التعليقات", "تعليقات",
    "طباعة", "اشتراک گذاری", "نظرات", "ارسال نظر", "שתפו", "שתף", "תגובות",
    # Chinese, Japanese, Korean, Hindi, Vietnamese
    "分享", "评论", "分享到", "評論", "シェア", "コメント", "공유", "공유하기", "댓글",
    "शेयर करें", "टिप्पणी", "टिप्पणियां", "chia sẻ", "bình luận",
)  # fmt: skip
_WIDGET_KEYS = frozenset(_label_key(label) for label in WIDGET_LABELS)

# ... and lines that name a network after a share verb ("Share on WhatsApp", "Partager sur X").
WIDGET_PREFIX = re.compile(
    r"^(?:share (?:on|via)|partager (?:sur|par)|compartir (?:en|por)|compartilhar (?:no|na|por)|"
    r"condividi su|teilen (?:auf|per)|delen op|поделиться в|bagikan ke|kongsi di|شارك على|شارك عبر)"
    r"(?: \w+){1,2}$"
)

# Separators between labels on one widget line ("Share | Tweet | Email").
_WIDGET_SEPARATORS = re.compile(r"\s*[|•·/]\s*|\s{2,}")

# 2. Comment-form notices: WordPress's and its translations; the line goes whole (it usually ends
# with "Required fields are marked *", in the same language).
COMMENT_NOTICE = re.compile(
    r"^(?:your e-?mail address will not be published|required fields are marked"
    r"|votre adresse (?:e-?mail|de messagerie|courriel) ne sera pas publiée|les champs obligatoires sont"
    r"|(?:tu|su) (?:dirección de )?correo electrónico no será publicad[oa]|los campos obligatorios están"
    r"|(?:o )?(?:seu )?(?:endereço de )?e-?mail não será publicado|os campos obrigatórios são"
    r"|il tuo indirizzo e-?mail non sarà pubblicato|i campi obbligatori sono"
    r"|(?:deine|ihre) e-?mail-adresse wird nicht veröffentlicht|erforderliche felder sind"
    r"|je e-?mailadres wordt niet gepubliceerd|twój adres e-?mail nie zostanie opublikowany"
    r"|ваш (?:адрес )?e-?mail не будет опубликован|обязательные поля помечены"
    r"|e-posta adresiniz yayınlanmayacak"
    r"|alamat e-?(?:mel|mail) anda tidak akan (?:disiarkan|diterbitkan|dipublikasikan|ditampilkan)"
    r"|adresa (?:juaj )?e?-?(?:mail|email)(?: juaj)? nuk do të (?:bëhet publike|publikohet)"
    r"|لن يتم نشر عنوان بريدك الإلكتروني|الحقول الإلزامية مشار إليها)",
    re.IGNORECASE,
)

# 3. Reading-time badges, wherever they sit in a short line ("كتب فريق التحرير 3 دقيقة للقراءة").
READING_TIME = re.compile(
    r"\d+\s*(?:min(?:ute)?s?\.?)\s+read\b"
    r"|(?:reading time|read time|lesezeit|temps de lecture|tiempo de lectura|tempo de leitura"
    r"|tempo di lettura|leestijd|czas czytania|время чтения|okuma süresi|waktu baca|masa membaca"
    r"|وقت القراءة|مدة القراءة|زمان مطالعه)\s*:?\s*(?:~|ca\.?|około)?\s*\d+\s*\w*\.?"
    r"|\d+\s*(?:minutos? de (?:lectura|leitura)|minuti di lettura|min(?:utes?)?\.? de lecture"
    r"|minuten lesezeit|dakika(?:lık)? okuma|menit (?:baca|membaca)|minit (?:membaca|bacaan)"
    r"|мин(?:ут[аы]?)?\.? (?:чтения|на чтение)|دقائق للقراءة|دقيقة للقراءة|دقيقة قراءة|دقائق قراءة"
    r"|دقیقه مطالعه|分钟阅读|分で読める|분 읽기)"
    r"|قراءة\s*\d+\s*(?:دقائق|دقيقة)",
    re.IGNORECASE,
)

# 4. Bylines: a credit verb or preposition and a name ("By Jane Doe", "Nga Arben Hoxha",
# "كتب فريق التحرير"), or a staff signature alone ("فريق التحرير", "Staff Reporter").
BYLINE = re.compile(
    r"^(?:(?:by|von|par|por|door|av|af|przez|nga|oleh|كتب|كتبت|بقلم|إعداد|اعداد|تحرير|מאת)\s*:?\s+"
    r"|(?:author|autor|auteur|autore|автор|autori|penulis|yazar|作者|记者|記者)\s*[:：]\s*)"
    r"(?P<name>\S.*)$",
    re.IGNORECASE,
)
STAFF_SIGNATURES = (
    "فريق التحرير", "هيئة التحرير", "المحرر", "editorial team", "editorial staff", "staff reporter",
    "staff writer", "web desk", "newsroom", "la rédaction", "redacción", "redação", "redazione",
    "redaktion", "redaksi", "redaksia", "редакция", "redakcja",
)  # fmt: skip
_STAFF_KEYS = frozenset(_label_key(signature) for signature in STAFF_SIGNATURES)
# A byline names at most a few people: longer and it is a sentence ("Nga ana e tij, Kim tha se...").
BYLINE_MAX_WORDS = 8
# In scripts with case every word of a byline is capitalised but for these particles and
# conjunctions ("By Jane Doe and John Roe in Seoul", "Nga Arben Hoxha dhe Ana Lika"): "Nga ana e
# tij" (Albanian "for his part") and "By the way" are sentences, "Nga Moska në Phenian" a heading.
NAME_PARTICLES = frozenset(
    "and und et y e i dhe dan ve и і ja og och en de da di del della der den van von bin binti "
    "al el la le du dos das ibn in at for from with".split()
)

# 5. Related-article links with a label ("Read more: ...", "Baca juga: ...", "اقرأ أيضا").
RELATED = re.compile(
    r"^(?:read more|read also|also read|see also|more on this|lire aussi|à lire aussi|lea también"
    r"|lee también|leia também|leia mais|leggi anche|lesen sie auch|mehr zum thema|lees ook"
    r"|baca juga|baca lagi|lexo edhe|lexoni edhe|читайте также|ayrıca okuyun"
    r"|اقرأ أيضا|اقرأ أيضاً|اقرأ ايضا|إقرأ أيضا|اقرأ المزيد|اقرأ كذلك|مطالب مرتبط|相关阅读|相關閱讀)\b"
    r"|^(?:related|more|watch|video|also)\s*[:：]",
    re.IGNORECASE,
)

# 6. Credit lines: who else reported ("Timothy H.J. Nerozzi menyumbang kepada laporan ini."). The
# formulas close their sentence, which keeps "contributed to the report's funding" a sentence.
CREDIT = re.compile(
    r"^(?:additional )?reporting by\b|^(?:writing|editing|compiled|translated) by\b"
    r"|(?:contributed (?:to )?(?:this|the) (?:report|story|article)"
    r"|menyumbang(?:kan)? kepada (?:laporan|berita) ini|berkontribusi (?:dalam|untuk|pada) (?:laporan|berita) ini"
    r"|(?:a|ont) contribué à (?:ce|cet) (?:article|reportage)"
    r"|(?:contribuy[óe]|contribuyeron|colabor[óo]|colaboraron) (?:a|con|en) (?:este|esta) (?:informe|nota|reportaje)"
    r"|(?:contribuiu|contribuíram|colaborou|colaboraram) (?:para|com) (?:esta|este) (?:reportagem|matéria|texto)"
    r"|(?:hat|haben) zu diesem (?:bericht|artikel) beigetragen|(?:ha|hanno) contribuito a quest[oa] (?:articolo|servizio)"
    r"|kontribu(?:oi|uan) në këtë (?:raport|artikull)"
    r"|в подготовке (?:материала|статьи) (?:участвовал[аи]?|принимал[аи]? участие))[.!]?\s*$"
    r"|^(?:ساهم|ساهمت|ساهموا|شارك|شاركت) في (?:التغطية|إعداد (?:هذا )?التقرير|هذا التقرير)",
    re.IGNORECASE,
)

# 7. Agency tags after the last sentence: "./VOA", " (Reuters)", " - AFP", a last line "(AFP)".
# Names are listed because a parenthesis or dash at the end of a text can be real content; after a
# slash, any short all-caps Latin token is an agency ("Sigurimit./VOA").
AGENCIES = (
    "Reuters", "AFP", "AP", "VOA", "dpa", "DPA", "EFE", "ANSA", "Xinhua", "Yonhap", "TASS", "ТАСС",
    "RIA Novosti", "РИА Новости", "Interfax", "Интерфакс", "Anadolu", "AA", "Bernama", "Antara",
    "Kyodo", "IANS", "PTI", "ANI", "UPI", "KUNA", "WAM", "SPA", "QNA", "MENA", "IRNA", "ATA", "BTA",
    "ČTK", "PAP", "MTI", "Lusa", "Belga", "APA", "KCNA", "RFE/RL", "Europa Press", "agencies",
    "Agencies", "رويترز", "أ ف ب", "أ.ف.ب", "ا ف ب", "د ب أ", "د.ب.أ", "أ ب", "الأناضول", "وام",
    "واس", "كونا", "قنا", "بترا", "سانا", "وكالات", "الفرنسية",
)  # fmt: skip
_AGENCY = "|".join(re.escape(name) for name in sorted(AGENCIES, key=len, reverse=True))
AGENCY_TAG = re.compile(
    rf"(?<=[.!?…\"”»’)؟])\s*/\s*(?:{_AGENCY}|[A-Z]{{2,6}})\s*\Z"  # "Sigurimit./VOA"
    rf"|\s*\((?:{_AGENCY})\)\s*\Z"  # " (Reuters)"
    rf"|\s+[-–—/]\s*\(?(?:{_AGENCY})\)?\s*\Z"  # " - AFP", " / AP"
    rf"|\n\s*[-–—/(]?\s*(?:{_AGENCY})\s*\)?\s*\Z"  # a last line of its own
)

# 8. All-caps lines: related-article headlines inlined in the body ("KOREA UTARA MELEPASKAN 2
# PELURU ... KOREA SELATAN"). Only in scripts with case, only on texts that are otherwise in mixed
# case (a wire story sent in capitals keeps its lines), and only for lines long enough to be a
# headline rather than an acronym ("NATO", "COVID-19"). Capitals take more room than the other
# furniture: sample 003's related headline is 124 characters; 250 is a long headline's length.
ALLCAPS_MAX_CHARS = 250
ALLCAPS_MIN_LETTERS = 15
ALLCAPS_MIN_WORDS = 3
ALLCAPS_MAX_LOWER_SHARE = 0.05
# The whole text counts as mixed case when at least this share of its cased letters is lower case.
MIXED_CASE_MIN_LOWER_SHARE = 0.5

# Sentence boundaries, for dropping a credit sentence that closes a paragraph: final punctuation
# after a word of two letters or more (not after the initials of "Timothy H.J. Nerozzi").
_SENTENCE_BOUNDARY = re.compile(r"(?:(?<=\w\w[.!?…؟。])|(?<=[.!?…؟。][\"”’»)]))\s+")
_BLANK_RUNS = re.compile(r"\n{3,}")
_TITLE_SEPARATOR = re.compile(r"\s+(?:\||-|–|—|::|·|»)\s+")
_BADGE_LEFTOVER = " \t|·•-–—,:"
_SEPARATOR_RUN = re.compile(r"([|·•–—])(?:\s*[|·•–—])+")


def clean(doc: RawDoc) -> RawDoc:
    """A copy of ``doc`` with page furniture removed from its text and title."""
    return dataclasses.replace(doc, text=clean_text(doc.text), title=clean_title(doc.title, doc.source))


def clean_text(text: str) -> str:
    """The text without furniture lines, trailing credits and a trailing agency tag."""
    mixed_case = _lower_share(text) >= MIXED_CASE_MIN_LOWER_SHARE
    kept: list[str] = []
    for raw_line in text.split("\n"):
        line = raw_line.strip()
        if line and len(line) <= FURNITURE_MAX_CHARS:
            without_badge = READING_TIME.sub(" ", line)
            if without_badge != line:
                line = _SEPARATOR_RUN.sub(r"\1", " ".join(without_badge.split())).strip(_BADGE_LEFTOVER)
                if not line:
                    continue
        if line and _is_furniture(line, mixed_case):
            continue
        kept.append(_drop_trailing_credit(line))
    cleaned = _BLANK_RUNS.sub("\n\n", "\n".join(kept)).strip()
    return AGENCY_TAG.sub("", cleaned).rstrip()


def clean_title(title: str, source: str = "") -> str:
    """The title without the site name appended to it, or "" if it is furniture itself."""
    title = " ".join(title.split())
    if not title or _is_furniture(title, mixed_case=False):
        return ""
    separators = list(_TITLE_SEPARATOR.finditer(title))
    if source and separators:
        first, last = separators[0], separators[-1]
        if _same_name(title[last.end() :], source):
            title = title[: last.start()]  # "Headline | Site"
        elif _same_name(title[: first.start()], source):
            title = title[first.end() :]  # "Site - Headline"
    return AGENCY_TAG.sub("", title).strip()


def _is_furniture(line: str, mixed_case: bool) -> bool:
    if len(line) <= NOTICE_MAX_CHARS and (COMMENT_NOTICE.match(line) or CREDIT.search(line)):
        return True
    if mixed_case and len(line) <= ALLCAPS_MAX_CHARS and _is_allcaps_headline(line):
        return True
    if len(line) > FURNITURE_MAX_CHARS:
        return False
    return _is_widget(line) or _is_byline(line) or RELATED.match(line) is not None


def _is_widget(line: str) -> bool:
    parts = [_label_key(part) for part in _WIDGET_SEPARATORS.split(line)]
    parts = [part for part in parts if part]
    if parts and all(part in _WIDGET_KEYS for part in parts):
        return True
    return WIDGET_PREFIX.match(_label_key(line)) is not None


def _is_byline(line: str) -> bool:
    if _label_key(line) in _STAFF_KEYS:
        return True
    match = BYLINE.match(line)
    if match is None or _ends_sentence(line):
        return False
    name = match.group("name")
    if _label_key(name) in _STAFF_KEYS:
        return True
    words = [word.strip("\"'“”‘’(),;|") for word in name.split()]
    if len(words) > BYLINE_MAX_WORDS:
        return False
    return all(not word[:1].islower() or word.casefold() in NAME_PARTICLES for word in words)


def _is_allcaps_headline(line: str) -> bool:
    letters = "".join(filter(str.isalpha, line))
    lower = sum(map(str.islower, letters))
    cased = lower + sum(map(str.isupper, letters))  # no single character is both
    if cased < ALLCAPS_MIN_LETTERS or cased < len(letters) / 2:
        return False  # too short, or a script without case
    if len(line.split()) < ALLCAPS_MIN_WORDS:
        return False
    return lower <= ALLCAPS_MAX_LOWER_SHARE * cased


def _drop_trailing_credit(line: str) -> str:
    """A paragraph without its last sentence when that is a credit ("... X contributed to this report.")."""
    credit = CREDIT.search(line) if len(line) > NOTICE_MAX_CHARS else None
    if credit is None:
        return line
    starts = [b.end() for b in _SENTENCE_BOUNDARY.finditer(line)]
    start = max((s for s in starts if s <= credit.start()), default=0)
    last = line[start:]
    if start and len(last) <= NOTICE_MAX_CHARS and all(s <= start for s in starts):
        return line[:start].rstrip()
    return line


def _lower_share(text: str) -> float:
    # map() over str methods runs the per-character loop in C: this was a tenth of cleaning.
    lower = sum(map(str.islower, text))
    cased = lower + sum(map(str.isupper, text))  # no single character is both
    return lower / cased if cased else 1.0


def _ends_sentence(line: str) -> bool:
    return line.rstrip("\"'”’»)")[-1:] in ".!?؟。！？"



def _same_name(segment: str, source: str) -> bool:
    """A title segment that names the source ("BBC News" for "BBC News" or "bbc.com")."""
    key = _label_key(segment).replace(" ", "")
    host = source.casefold().removeprefix("www.").split(".")[0]
    return bool(key) and key in (_label_key(source).replace(" ", ""), _label_key(host).replace(" ", ""))
