/**
 * PII matchers: decide from a field's NAME (the last path segment, or a map key) whether it holds
 * personal data. Built-ins cover the HIPAA Safe Harbor identifiers that show up as field names;
 * `matchers.synonyms` adds exact keys to a matcher, `matchers.custom` adds matchers (a custom
 * matcher named like a built-in extends it). Schema fields are matched once at compile time; map
 * keys once per distinct key (the caller caches).
 *
 * Two ways a name hits a matcher:
 * - exact: its normalized form (lowercase, only [a-z0-9]) equals a key: `memberId`, `member_id`
 *   and `Member-ID` are all `memberid`;
 * - phrase: its words (split on separators, camelCase and digits) contain the phrase's words in a
 *   row (`patientEmail` → patient email ⊇ email). Phrases of 5+ letters also match inside run-together
 *   names (`emailaddress`); shorter ones (ip, ssn, zip, city) only as whole words, so `zip` does
 *   not hit `ip` and `ethnicity` does not hit `city`.
 */

interface BuiltinMatcher {
  readonly exact: readonly string[];
  readonly phrases: readonly string[];
}

/** Bumped whenever the table changes meaning: it is part of every destination's version. */
export const BUILTIN_MATCHERS_VERSION = 2;

export const BUILTIN_MATCHERS: Readonly<Record<string, BuiltinMatcher>> = Object.freeze({
  email: { exact: ['mail', 'emailaddress'], phrases: ['email', 'e mail'] },
  phone: {
    exact: ['tel', 'msisdn', 'mobile', 'cell', 'fax'],
    phrases: ['phone', 'telephone', 'mobile number', 'fax number'],
  },
  name: {
    exact: ['name', 'fullname', 'patientname', 'legalname'],
    phrases: ['full name', 'patient name', 'legal name', 'middle name', 'maiden name', 'preferred name'],
  },
  first_name: {
    exact: ['firstname', 'fname', 'givenname', 'forename'],
    phrases: ['first name', 'given name'],
  },
  last_name: {
    exact: ['lastname', 'lname', 'surname', 'familyname'],
    phrases: ['last name', 'family name', 'surname'],
  },
  address: { exact: ['addr', 'address1', 'address2'], phrases: ['address', 'addr'] },
  street: { exact: ['street'], phrases: ['street'] },
  city: { exact: ['city', 'town', 'county'], phrases: ['city', 'county'] },
  zip: {
    exact: ['zip', 'zipcode', 'postalcode', 'postcode'],
    phrases: ['zip', 'postal', 'postcode', 'zipcode'],
  },
  birth_date: {
    exact: ['dob', 'birthdate', 'birthday', 'dateofbirth'],
    phrases: ['birth', 'dob', 'birthday'],
  },
  care_date: {
    exact: ['dod', 'dateofdeath', 'admitdate', 'admissiondate', 'dischargedate'],
    phrases: ['date of death', 'death date', 'admit date', 'admission date', 'discharge date'],
  },
  ssn: {
    exact: ['ssn', 'socialsecuritynumber', 'nationalid'],
    phrases: ['ssn', 'social security', 'national id'],
  },
  ip: { exact: ['ip', 'ipaddress', 'ipaddr', 'ipv4', 'ipv6'], phrases: ['ip'] },
  mrn: {
    exact: ['mrn', 'medicalrecordnumber', 'patientid'],
    phrases: ['mrn', 'medical record', 'patient id'],
  },
  insurance_id: {
    exact: ['insuranceid', 'policynumber'],
    phrases: ['insurance', 'policy number', 'subscriber id'],
  },
  member_id: { exact: ['memberid', 'membernumber'], phrases: ['member id', 'member number'] },
  account_number: {
    exact: ['acct', 'acctno', 'accountnumber', 'iban'],
    phrases: ['account number', 'account no', 'bank account', 'routing number', 'iban'],
  },
  device_id: {
    exact: ['deviceid', 'udid', 'imei', 'serialnumber'],
    phrases: ['device id', 'udid', 'imei', 'serial number'],
  },
  advertising_id: {
    exact: ['idfa', 'idfv', 'gaid', 'adid', 'aaid'],
    phrases: ['advertising id', 'idfa', 'gaid'],
  },
  payment_card: {
    exact: ['cc', 'ccnumber', 'cvv', 'cvc', 'pan'],
    phrases: ['card number', 'credit card', 'cvv', 'cvc'],
  },
  credential: { exact: ['password', 'passwd', 'pwd'], phrases: ['password', 'passcode'] },
  license_number: {
    exact: ['passport', 'licensenumber', 'certificatenumber'],
    phrases: ['passport', 'driver license', 'license number', 'licence', 'certificate number'],
  },
  // The rest of HIPAA Safe Harbor's identifiers (45 CFR 164.514(b)(2)(i)), and Segment's spec traits
  // that name a person: username, avatar, website, age.
  username: {
    exact: ['username', 'screenname', 'loginname', 'userhandle'],
    phrases: ['user name', 'screen name', 'login name'],
  },
  vehicle_id: {
    exact: ['vin', 'licenseplate', 'platenumber'],
    phrases: ['vehicle id', 'vehicle identification', 'license plate', 'plate number'],
  },
  web_url: {
    exact: ['website', 'personalurl', 'profileurl'],
    phrases: ['personal website', 'profile url'],
  },
  photo: {
    exact: ['photo', 'avatar', 'selfie', 'headshot'],
    phrases: ['photo', 'avatar', 'selfie', 'headshot', 'profile picture', 'profile image'],
  },
  biometric: {
    exact: ['biometric', 'biometrics', 'fingerprint', 'faceprint', 'voiceprint'],
    phrases: ['biometric', 'fingerprint', 'faceprint', 'voiceprint', 'voice print', 'retina', 'iris scan'],
  },
  age: { exact: ['age', 'patientage', 'ageyears', 'ageinyears'], phrases: ['patient age'] },
  geolocation: {
    exact: ['lat', 'lng', 'lon', 'geo', 'geolocation'],
    phrases: ['latitude', 'longitude', 'geolocation'],
  },
  health: {
    exact: ['icd', 'icd10', 'dx'],
    phrases: ['diagnosis', 'icd', 'medication', 'prescription', 'symptom', 'condition code'],
  },
});

/** Lowercase, only [a-z0-9]: `Member-ID` → `memberid`. */
export function normalizeKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '');
}

/** Words of a name: separators, camelCase humps, acronym boundaries and letter/digit changes split it. */
export function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])([0-9])/g, '$1 $2')
    .replace(/([0-9])([A-Za-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** Minimum joined length for a phrase to also match inside run-together names. */
const SUBSTRING_MIN = 5;

interface CompiledPhrase {
  readonly words: readonly string[];
  readonly joined: string;
}

function containsWords(words: readonly string[], phrase: readonly string[]): boolean {
  outer: for (let i = 0; i + phrase.length <= words.length; i++) {
    for (let j = 0; j < phrase.length; j++) if (words[i + j] !== phrase[j]) continue outer;
    return true;
  }
  return false;
}

export interface MatchersConfig {
  readonly synonyms: Readonly<Record<string, readonly string[]>>;
  readonly custom: readonly {
    readonly name: string;
    readonly keys: readonly string[];
    readonly values?: string;
  }[];
}

export interface ValuePattern {
  /** The matcher name, used as the detector kind (`redact:member_id`). */
  readonly kind: string;
  readonly regex: RegExp;
}

/** Which matcher flags a name, and whether the built-in table or the policy (custom keys, synonyms) made it hit. */
export interface Classification {
  readonly matcher: string;
  readonly source: 'builtin' | 'custom';
}

export interface MatcherSet {
  /** Name of the first matcher (in table order) the field name hits, or null. */
  match(fieldName: string): string | null;
  /** The same decision, with where it came from (for the inventory). */
  classify(fieldName: string): Classification | null;
  /** Regexes of custom matchers with `values`: run as value detectors. */
  readonly valuePatterns: readonly ValuePattern[];
}

/** Every matcher name the config may refer to (built-ins plus custom). */
export function knownMatcherNames(config: MatchersConfig): Set<string> {
  return new Set([...Object.keys(BUILTIN_MATCHERS), ...config.custom.map((c) => c.name)]);
}

/** Builds the matcher set; the config is assumed valid (regexes checked by the semantic pass). */
export function compileMatchers(config: MatchersConfig): MatcherSet {
  const exact = new Map<string, Classification>();
  const phrases: { hit: Classification; phrase: CompiledPhrase }[] = [];
  const hits = new Map<string, Classification>();
  const hitOf = (matcher: string, source: Classification['source']): Classification => {
    const key = `${source}:${matcher}`;
    let hit = hits.get(key);
    if (hit === undefined) {
      hit = Object.freeze({ matcher, source });
      hits.set(key, hit);
    }
    return hit;
  };
  const addExact = (key: string, hit: Classification): void => {
    const k = normalizeKey(key);
    if (k.length > 0 && !exact.has(k)) exact.set(k, hit);
  };
  for (const [kind, m] of Object.entries(BUILTIN_MATCHERS)) {
    for (const key of m.exact) addExact(key, hitOf(kind, 'builtin'));
    for (const p of m.phrases) {
      const words = wordsOf(p);
      phrases.push({ hit: hitOf(kind, 'builtin'), phrase: { words, joined: words.join('') } });
    }
  }
  for (const c of config.custom) for (const key of c.keys) addExact(key, hitOf(c.name, 'custom'));
  for (const [kind, keys] of Object.entries(config.synonyms))
    for (const key of keys) addExact(key, hitOf(kind, 'custom'));

  const valuePatterns = config.custom
    .filter((c) => c.values !== undefined)
    .map((c) => Object.freeze({ kind: c.name, regex: new RegExp(c.values as string, 'g') }));

  const classify = (fieldName: string): Classification | null => {
    const normalized = normalizeKey(fieldName);
    const hit = exact.get(normalized);
    if (hit !== undefined) return hit;
    const words = wordsOf(fieldName);
    for (const { hit: h, phrase } of phrases) {
      if (containsWords(words, phrase.words)) return h;
      if (phrase.joined.length >= SUBSTRING_MIN && normalized.includes(phrase.joined)) return h;
    }
    return null;
  };
  return Object.freeze({
    match: (fieldName: string): string | null => classify(fieldName)?.matcher ?? null,
    classify,
    valuePatterns: Object.freeze(valuePatterns),
  });
}
