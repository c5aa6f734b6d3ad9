import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileMatchers, normalizeKey, wordsOf } from '../../../src/policy/matchers.ts';

const builtins = compileMatchers({ synonyms: {}, custom: [] });

describe('built-in matchers', () => {
  const cases: [string, string | null][] = [
    ['email', 'email'],
    ['patientEmail', 'email'],
    ['EMAIL_ADDRESS', 'email'],
    ['emailaddress', 'email'],
    ['phone', 'phone'],
    ['homePhoneNumber', 'phone'],
    ['name', 'name'],
    ['fullName', 'name'],
    ['firstName', 'first_name'],
    ['first_name', 'first_name'],
    ['firstname', 'first_name'],
    ['lastName', 'last_name'],
    ['surname', 'last_name'],
    ['address', 'address'],
    ['homeAddress', 'address'],
    ['street', 'street'],
    ['city', 'city'],
    ['postalCode', 'zip'],
    ['zip', 'zip'],
    ['zipCode', 'zip'],
    ['dob', 'birth_date'],
    ['dateOfBirth', 'birth_date'],
    ['birthday', 'birth_date'],
    ['ssn', 'ssn'],
    ['patient_ssn', 'ssn'],
    ['ip', 'ip'],
    ['clientIp', 'ip'],
    ['ipAddress', 'ip'],
    ['mrn', 'mrn'],
    ['medicalRecordNumber', 'mrn'],
    ['insuranceId', 'insurance_id'],
    ['memberId', 'member_id'],
    ['accountNumber', 'account_number'],
    ['deviceId', 'device_id'],
    ['advertisingId', 'advertising_id'],
    ['diagnosis', 'health'],
    ['certificateNumber', 'license_number'],
    ['username', 'username'],
    ['userName', 'username'],
    ['screen_name', 'username'],
    ['vin', 'vehicle_id'],
    ['licensePlate', 'vehicle_id'],
    ['website', 'web_url'],
    ['avatar', 'photo'],
    ['photoUrl', 'photo'],
    ['profilePicture', 'photo'],
    ['fingerprint', 'biometric'],
    ['age', 'age'],
    ['county', 'city'],
    ['dischargeDate', 'care_date'],
    ['date_of_death', 'care_date'],
    ['serialNumber', 'device_id'],
    ['patient_age', 'age'],
    // not personal data by name
    ['specialty', null],
    ['plan', null],
    ['revenue', null],
    ['sku', null],
    ['userAgent', null],
    ['description', null], // contains "ip" letters, not the word
    ['ethnicity', null], // contains "city" letters, not the word
    ['zipper', null],
    ['page', null], // not the word "age"
    ['country', null], // not "county"
    ['createdDate', null],
    ['usage', null],
    ['vintage', null], // not the word "vin"
    ['url', null], // the page's URL is analytics, not a person's website
  ];
  for (const [field, kind] of cases) {
    test(`${field} → ${kind}`, () => assert.equal(builtins.match(field), kind));
  }
});

describe('keys are compared case- and separator-insensitively', () => {
  test('normalizeKey', () => {
    assert.equal(normalizeKey('memberId'), 'memberid');
    assert.equal(normalizeKey('member_id'), 'memberid');
    assert.equal(normalizeKey('Member-ID'), 'memberid');
  });
  test('wordsOf splits camelCase, acronyms, digits and separators', () => {
    assert.deepEqual(wordsOf('patientIPAddress2'), ['patient', 'ip', 'address', '2']);
    assert.deepEqual(wordsOf('contact_e-mail'), ['contact', 'e', 'mail']);
  });
});

describe('synonyms and custom matchers', () => {
  const m = compileMatchers({
    synonyms: { email: ['e_mail', 'contactHandle'] },
    custom: [
      { name: 'loyalty', keys: ['loyaltyCard', 'rewards_no'] },
      { name: 'member_id', keys: ['subscriberNo'], values: '^M-[0-9]{8}$' },
    ],
  });
  test('a synonym adds a key to a built-in', () => {
    assert.equal(m.match('E-Mail'), 'email');
    assert.equal(m.match('contact_handle'), 'email');
    assert.equal(builtins.match('contactHandle'), null);
  });
  test('a custom matcher matches its keys in any spelling', () => {
    for (const k of ['loyaltyCard', 'loyalty_card', 'LOYALTY-CARD', 'RewardsNo'])
      assert.equal(m.match(k), 'loyalty');
  });
  test('a custom matcher named like a built-in extends it and adds a value pattern', () => {
    assert.equal(m.match('subscriber_no'), 'member_id');
    assert.equal(m.match('memberId'), 'member_id');
    assert.deepEqual(
      m.valuePatterns.map((p) => p.kind),
      ['member_id'],
    );
  });
});
