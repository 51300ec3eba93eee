/**
 * Sentiment and anger lexicons for contact-centre speech, English and Dutch.
 *
 * Entries are written as transcripts arrive (lower case, no punctuation,
 * apostrophes kept: "don't") and may span several words. Polarities run
 * from -1 (very negative) to 1 (very positive); anger weights from 0 to 1.
 * Diacritics are ignored when matching ("geïrriteerd" = "geirriteerd").
 * Kept small and curated: every entry should mean the same thing in a
 * customer-service call as in a dictionary, so "sick" (ill) and "mad" alone
 * are left out while "sick of" and "i'm mad" are in.
 */
import type { Language } from '../../language.js';

/** Term → polarity, -1..1. */
export type PolarityLexicon = ReadonlyMap<string, number>;

const EN_SENTIMENT: readonly (readonly [string, number])[] = [
  // positive
  ['good', 0.5], ['great', 0.7], ['excellent', 0.8], ['fantastic', 0.8], ['amazing', 0.8], ['awesome', 0.8],
  ['wonderful', 0.8], ['brilliant', 0.8], ['perfect', 0.8], ['superb', 0.8], ['outstanding', 0.8], ['lovely', 0.6],
  ['nice', 0.5], ['fine', 0.2], ['okay', 0.15], ['ok', 0.15], ['happy', 0.6], ['glad', 0.5], ['pleased', 0.6],
  ['satisfied', 0.5], ['delighted', 0.8], ['thrilled', 0.8], ['love', 0.6], ['enjoy', 0.5],
  ['enjoyed', 0.5], ['appreciate', 0.6], ['appreciated', 0.6], ['thank you', 0.5], ['thanks', 0.5],
  ['thank you so much', 0.8], ['thanks a lot', 0.7], ['helpful', 0.6], ['useful', 0.4], ['quick', 0.3],
  ['fast', 0.3], ['easy', 0.4], ['friendly', 0.5], ['polite', 0.4], ['resolved', 0.5], ['solved', 0.5],
  ['sorted', 0.4], ['fixed', 0.4], ['works', 0.3],
  ['recommend', 0.6], ['best', 0.3], ['better', 0.3], ['impressed', 0.6], ['reliable', 0.5], ['smooth', 0.4],
  ['no problem', 0.4], ['not bad', 0.4], ['not too bad', 0.3], ['not bad at all', 0.5], ['no worries', 0.4], ['no problems', 0.4], ['not a problem', 0.4], ['all good', 0.5],
  ['well done', 0.6], ['great job', 0.7], ['you saved me', 0.7], ['that helps', 0.5], ['that helped', 0.5],
  ['relieved', 0.5], ['grateful', 0.7], ['awesome service', 0.9], ['great service', 0.8], ['excellent service', 0.9],
  ['perfectly', 0.6], ['gladly', 0.4], ['sure thing', 0.3], ['exactly', 0.2], ['correct', 0.2], ['right away', 0.3],
  ['cheers', 0.4], ['fair', 0.3], ['fair enough', 0.3], ['reasonable', 0.3], ['generous', 0.6],
  // negative
  ['bad', -0.5], ['terrible', -0.8], ['horrible', -0.8], ['awful', -0.8], ['dreadful', -0.8], ['poor', -0.5],
  ['worst', -0.9], ['worse', -0.5], ['unhappy', -0.6], ['sad', -0.5], ['disappointed', -0.6],
  ['disappointing', -0.6], ['dissatisfied', -0.6], ['upset', -0.6], ['angry', -0.7], ['annoyed', -0.5],
  ['annoying', -0.5], ['irritated', -0.5], ['frustrated', -0.6], ['frustrating', -0.6], ['furious', -0.9],
  ['hate', -0.8], ['dislike', -0.5], ['problem', -0.4], ['problems', -0.4], ['issue', -0.3], ['issues', -0.3],
  ['broken', -0.5], ['damaged', -0.5], ['faulty', -0.5], ['defective', -0.5], ['wrong', -0.4], ['missing', -0.4],
  ['lost', -0.4], ['late', -0.4], ['delayed', -0.4], ['delay', -0.4], ['slow', -0.4], ['never arrived', -0.6],
  ['not arrived', -0.5], ['still waiting', -0.5], ['waiting for weeks', -0.6], ['complaint', -0.4],
  ['complain', -0.4], ['useless', -0.7], ['ridiculous', -0.7], ['unacceptable', -0.8], ['outrageous', -0.8],
  ['disgusting', -0.8], ['pathetic', -0.7], ['incompetent', -0.7], ['rude', -0.6], ['unhelpful', -0.6],
  ['confusing', -0.4], ['confused', -0.3], ['difficult', -0.3], ['expensive', -0.3], ['overcharged', -0.6],
  ['charged twice', -0.6], ['scam', -0.8], ['fraud', -0.6], ['rip off', -0.7], ['rip-off', -0.7], ['mess', -0.5],
  ['nightmare', -0.8], ['disaster', -0.8], ['waste', -0.5], ['waste of time', -0.7], ['fed up', -0.7],
  ['sick of', -0.7], ['sick and tired', -0.8], ["doesn't work", -0.6], ['does not work', -0.6],
  ["didn't work", -0.5], ['not working', -0.6], ['stopped working', -0.6], ["isn't working", -0.6],
  ['sorry', -0.2], ['unfortunately', -0.3], ['worried', -0.4], ['concerned', -0.3],
  ['stressed', -0.5], ['stressful', -0.5], ['shocked', -0.5], ['appalling', -0.8], ['shocking', -0.6],
  ['joke', -0.4], ['rubbish', -0.6], ['crap', -0.6], ['garbage', -0.6], ['hopeless', -0.6], ['fail', -0.5],
  ['failed', -0.5], ['failure', -0.5], ['error', -0.3], ['inconvenience', -0.3], ['hassle', -0.4],
  ['trouble', -0.4], ['unreliable', -0.5], ['ignored', -0.5], ['lied', -0.7], ['liar', -0.7], ['cheated', -0.7],
  ['refused', -0.4], ['never again', -0.7], ['too long', -0.4], ['hung up', -0.4], ['no one', -0.2], ['nobody', -0.2],
];

const NL_SENTIMENT: readonly (readonly [string, number])[] = [
  // positief
  ['goed', 0.5], ['prima', 0.4], ['fijn', 0.5], ['mooi', 0.5], ['top', 0.7], ['super', 0.7], ['geweldig', 0.8],
  ['fantastisch', 0.8], ['uitstekend', 0.8], ['perfect', 0.8], ['heerlijk', 0.7], ['leuk', 0.5], ['blij', 0.6],
  ['tevreden', 0.6], ['content', 0.5], ['gelukkig', 0.6], ['opgelucht', 0.5], ['dankbaar', 0.7], ['bedankt', 0.5],
  ['dank je', 0.5], ['dank u', 0.5], ['dank je wel', 0.6], ['dank u wel', 0.6], ['hartelijk dank', 0.7],
  ['heel erg bedankt', 0.8], ['dankjewel', 0.6], ['dankuwel', 0.6], ['behulpzaam', 0.6], ['vriendelijk', 0.5],
  ['aardig', 0.4], ['snel', 0.3], ['makkelijk', 0.4], ['gemakkelijk', 0.4], ['duidelijk', 0.3], ['handig', 0.4],
  ['opgelost', 0.5], ['geregeld', 0.4], ['gelukt', 0.5], ['werkt weer', 0.5], ['aanrader', 0.6],
  ['aanbevelen', 0.6], ['beter', 0.3], ['beste', 0.5], ['netjes', 0.4], ['correct', 0.2], ['klopt', 0.2],
  ['in orde', 0.3], ['niet slecht', 0.4], ['helemaal niet slecht', 0.5], ['geen probleem', 0.4], ['geen problemen', 0.4], ['geen zorgen', 0.3], ['komt goed', 0.4],
  ['helemaal goed', 0.6], ['keurig', 0.5], ['waardering', 0.5], ['waarderen', 0.5], ['tof', 0.6], ['gaaf', 0.6],
  ['geweldige service', 0.9], ['goede service', 0.7], ['goed geholpen', 0.7], ['goed geregeld', 0.6],
  ['vlot', 0.4], ['betrouwbaar', 0.5], ['redelijk', 0.2], ['billijk', 0.3], ['graag gedaan', 0.3],
  ['oké', 0.15], ['oke', 0.15], ['ok', 0.15], ['akkoord', 0.2], ['uitstekende', 0.8], ['geweldige', 0.8],
  ['fijne', 0.5], ['goede', 0.5], ['leuke', 0.5], ['mooie', 0.5], ['blije', 0.6], ['tevreden klant', 0.7],
  // negatief
  ['slecht', -0.6], ['slechte', -0.6], ['vreselijk', -0.8], ['verschrikkelijk', -0.8], ['afschuwelijk', -0.8],
  ['waardeloos', -0.8], ['waardeloze', -0.8], ['teleurgesteld', -0.6], ['teleurstellend', -0.6],
  ['ontevreden', -0.6], ['ongelukkig', -0.5], ['verdrietig', -0.5], ['boos', -0.7], ['kwaad', -0.7],
  ['woedend', -0.9], ['geïrriteerd', -0.5], ['geergerd', -0.5], ['geërgerd', -0.5], ['irritant', -0.5],
  ['ergerlijk', -0.5], ['gefrustreerd', -0.6], ['frustrerend', -0.6], ['belachelijk', -0.7],
  ['schandalig', -0.8], ['schande', -0.8], ['onacceptabel', -0.8], ['onaanvaardbaar', -0.8], ['probleem', -0.4],
  ['problemen', -0.4], ['kapot', -0.5], ['beschadigd', -0.5], ['defect', -0.5], ['fout', -0.4],
  ['verkeerd', -0.4], ['verkeerde', -0.4], ['kwijt', -0.4], ['vermist', -0.4], ['te laat', -0.5],
  ['vertraging', -0.4], ['vertraagd', -0.4], ['traag', -0.4], ['nooit aangekomen', -0.6], ['niet aangekomen', -0.5],
  ['niet ontvangen', -0.5], ['nog steeds niet', -0.5], ['klacht', -0.4], ['klagen', -0.4], ['onbeleefd', -0.6],
  ['onvriendelijk', -0.6], ['brutaal', -0.5], ['onduidelijk', -0.4], ['ingewikkeld', -0.3], ['duur', -0.3],
  ['te duur', -0.5], ['dubbel betaald', -0.6], ['twee keer afgeschreven', -0.6], ['oplichting', -0.8],
  ['oplichters', -0.8], ['fraude', -0.6], ['rommel', -0.6], ['troep', -0.6], ['bagger', -0.7], ['puinhoop', -0.7],
  ['drama', -0.6], ['ramp', -0.7], ['rampzalig', -0.8], ['nachtmerrie', -0.8], ['zonde', -0.4],
  ['tijdverspilling', -0.7], ['ik ben het zat', -0.8], ['het zat', -0.6], ['spuugzat', -0.8], ['beu', -0.6],
  ['werkt niet', -0.6], ['werkt het niet', -0.6], ['doet het niet', -0.6], ['lukt niet', -0.5],
  ['klopt niet', -0.5], ['klopt niks van', -0.6], ['helpt niet', -0.4], ['sorry', -0.2], ['helaas', -0.3],
  ['jammer', -0.4], ['bezorgd', -0.4], ['gestrest', -0.5], ['geschrokken', -0.5],
  ['geschokt', -0.6], ['grap', -0.4], ['hopeloos', -0.6], ['mislukt', -0.5], ['storing', -0.4], ['gedoe', -0.4],
  ['last', -0.3], ['ellende', -0.7], ['genegeerd', -0.5], ['gelogen', -0.7], ['bedrogen', -0.7],
  ['geweigerd', -0.4], ['nooit meer', -0.7], ['te lang', -0.4], ['opgehangen', -0.4], ['niemand', -0.2], ['incompetent', -0.7],
  ['prutswerk', -0.7], ['klote', -0.7],
];

/** English and Dutch sentiment terms with their polarity. */
export const SENTIMENT_LEXICON: Readonly<Record<Language, PolarityLexicon>> = {
  'en-US': new Map(EN_SENTIMENT),
  'nl-NL': new Map(NL_SENTIMENT),
};

/**
 * Negators and how many tokens before a term they reach. "no" and "geen"
 * reach only the next word or two: "no, it's great" is not negated.
 */
export const NEGATORS: Readonly<Record<Language, ReadonlyMap<string, number>>> = {
  'en-US': new Map([
    ['not', 3], ["n't", 3], ['never', 3], ['no', 1], ['nothing', 2], ['hardly', 2], ['barely', 2], ['without', 2],
    ["don't", 3], ['dont', 3], ["doesn't", 3], ['doesnt', 3], ["didn't", 3], ['didnt', 3], ["isn't", 3],
    ['isnt', 3], ["wasn't", 3], ['wasnt', 3], ["aren't", 3], ["weren't", 3], ["can't", 3], ['cant', 3],
    ["cannot", 3], ["couldn't", 3], ["won't", 3], ['wont', 3], ["wouldn't", 3], ["haven't", 3], ["hasn't", 3],
    ["ain't", 3], ['neither', 2], ['nor', 2],
  ]),
  'nl-NL': new Map([
    ['niet', 3], ['geen', 2], ['nooit', 3], ['niks', 2], ['niets', 2], ['nergens', 2], ['allerminst', 2],
    ['nauwelijks', 2], ['amper', 2], ['zonder', 2],
  ]),
};

/** Words that strengthen (> 1) or soften (< 1) the term after them. */
export const INTENSIFIERS: Readonly<Record<Language, ReadonlyMap<string, number>>> = {
  'en-US': new Map([
    ['very', 1.5], ['really', 1.4], ['so', 1.4], ['extremely', 1.8], ['totally', 1.5], ['absolutely', 1.6],
    ['incredibly', 1.7], ['super', 1.5], ['truly', 1.4], ['completely', 1.5], ['utterly', 1.7], ['quite', 1.2],
    ['too', 1.3], ['most', 1.4], ['highly', 1.5], ['deeply', 1.5], ['seriously', 1.5], ['particularly', 1.3],
    ['pretty', 1.1], ['slightly', 0.6], ['somewhat', 0.6], ['bit', 0.6], ['little', 0.7], ['fairly', 0.8],
    ['rather', 0.9], ['kinda', 0.7],
  ]),
  'nl-NL': new Map([
    ['heel', 1.5], ['erg', 1.5], ['echt', 1.4], ['zeer', 1.6], ['super', 1.5], ['ontzettend', 1.7],
    ['enorm', 1.6], ['hartstikke', 1.6], ['ontiegelijk', 1.7], ['uiterst', 1.7], ['bijzonder', 1.4],
    ['zo', 1.3], ['totaal', 1.5], ['volkomen', 1.5], ['helemaal', 1.4], ['behoorlijk', 1.2], ['best', 1.1],
    ['vrij', 0.9], ['nogal', 1.1], ['beetje', 0.6], ['wat', 1.2], ['enigszins', 0.6], ['iets', 0.7],
  ]),
};

/** Words after which the sentiment that follows outweighs what came before: "it was late but they were great". */
export const CONTRAST_WORDS: Readonly<Record<Language, ReadonlySet<string>>> = {
  'en-US': new Set(['but', 'however', 'although', 'though']),
  'nl-NL': new Set(['maar', 'echter', 'hoewel', 'alhoewel']),
};

const EN_ANGER: readonly (readonly [string, number])[] = [
  ['ridiculous', 0.6], ['absolutely ridiculous', 0.8], ['unacceptable', 0.7], ['completely unacceptable', 0.9],
  ['furious', 0.9], ['livid', 0.9], ['fuming', 0.8], ['outrageous', 0.7], ['outraged', 0.8], ['appalling', 0.7],
  ['disgraceful', 0.7], ['disgusting', 0.6], ['pathetic', 0.6], ['incompetent', 0.7], ['useless', 0.5],
  ['angry', 0.6], ["i'm mad", 0.6], ['so mad', 0.6], ['pissed', 0.7], ['pissed off', 0.8], ['annoyed', 0.4],
  ['irritated', 0.4], ['frustrated', 0.5], ['frustrating', 0.5], ['sick of', 0.6], ['sick and tired', 0.8],
  ['fed up', 0.7], ['had enough', 0.6], ["i've had enough", 0.7], ['enough is enough', 0.7],
  ['waste of time', 0.6], ['waste of my time', 0.7], ['wasting my time', 0.7], ['this is a joke', 0.6],
  ['are you kidding me', 0.6], ['you people', 0.5], ['how many times', 0.5], ['for the last time', 0.5],
  ['third time', 0.4], ['speak to a manager', 0.6], ['speak to your manager', 0.6], ['speak to a supervisor', 0.6],
  ['talk to a manager', 0.6], ['your supervisor', 0.5], ['lawyer', 0.6], ['sue you', 0.8], ['take legal action', 0.8],
  ['scam', 0.7], ['rip off', 0.6], ['rip-off', 0.6], ['never again', 0.5], ['worst service', 0.7],
  ['terrible service', 0.6], ['absurd', 0.5], ['insane', 0.5], ['unbelievable', 0.4], ['shocking', 0.5],
  ['stupid', 0.5], ['idiot', 0.7], ['idiots', 0.7], ['morons', 0.8], ['liars', 0.8], ['you lied', 0.7],
  ['bullshit', 0.8], ['damn', 0.4], ['damn it', 0.5], ['goddamn', 0.7], ['what the hell', 0.5], ['crap', 0.5],
  ['shit', 0.6], ['fuck', 0.9], ['fucking', 0.9], ['bloody', 0.4], ['screw this', 0.6], ["for god's sake", 0.6],
  ["for christ's sake", 0.6], ['i want my money back', 0.5], ['cancel everything', 0.4], ['close my account', 0.4],
];

const NL_ANGER: readonly (readonly [string, number])[] = [
  ['belachelijk', 0.6], ['echt belachelijk', 0.8], ['schandalig', 0.8], ['schande', 0.7], ['een schande', 0.8],
  ['onacceptabel', 0.7], ['onaanvaardbaar', 0.7], ['ik ben het zat', 0.7], ['ben het zat', 0.6],
  ['ik ben het spuugzat', 0.9], ['spuugzat', 0.8], ['kotsbeu', 0.8], ['ik heb er genoeg van', 0.7],
  ['nu is het genoeg', 0.7], ['boos', 0.6], ['woedend', 0.9], ['kwaad', 0.6], ['pislink', 0.9], ['witheet', 0.9],
  ['razend', 0.8], ['geïrriteerd', 0.4], ['geirriteerd', 0.4], ['gefrustreerd', 0.5], ['frustrerend', 0.5],
  ['irritant', 0.4], ['ergerlijk', 0.5], ['bespottelijk', 0.6], ['absurd', 0.5], ['waardeloos', 0.6],
  ['prutswerk', 0.6], ['incompetent', 0.7], ['tijdverspilling', 0.6], ['zonde van mijn tijd', 0.6],
  ['voor de zoveelste keer', 0.6], ['zoveelste keer', 0.5], ['hoe vaak nog', 0.6], ['hoe vaak moet ik', 0.6],
  ['dit is een grap', 0.6], ['wat een grap', 0.5], ['oplichting', 0.7], ['oplichters', 0.8],
  ['leidinggevende spreken', 0.6], ['uw leidinggevende', 0.5], ['je leidinggevende', 0.5], ['manager spreken', 0.6],
  ['klacht indienen', 0.5], ['advocaat', 0.6], ['ik word er gek van', 0.6], ['ik word gek', 0.5],
  ['nooit meer', 0.5], ['ik wil mijn geld terug', 0.5], ['sukkels', 0.7], ['idioot', 0.7], ['idioten', 0.7],
  ['klote', 0.6], ['kut', 0.7], ['godverdomme', 0.9], ['verdomme', 0.6], ['shit', 0.6], ['fuck', 0.9],
  ['tering', 0.8], ['bullshit', 0.8], ['potverdorie', 0.4], ['verdorie', 0.3], ['jezus', 0.3],
];

/** English and Dutch anger/frustration cues with their weight, 0..1. */
export const ANGER_LEXICON: Readonly<Record<Language, PolarityLexicon>> = {
  'en-US': new Map(EN_ANGER),
  'nl-NL': new Map(NL_ANGER),
};
