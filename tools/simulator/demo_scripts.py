"""The k6 scripts of the demo load tests (and older versions that earlier runs executed)."""

from __future__ import annotations

# The soak test's first script (runs 1184-1191): 40 VUs, bigger pages, no check on the list's content.
ORDERS_SOAK_V1 = """import http from 'k6/http';
import { check, sleep } from 'k6';

export const options = {
  vus: 40,
  duration: '30m',
  thresholds: {
    http_req_duration: ['p(95)<500', 'p(99)<1000'],
    http_req_failed: ['rate<0.01'],
  },
  cloud: {
    name: 'Orders API Soak Test',
    distribution: {
      ashburn: { loadZone: 'amazon:us:ashburn', percent: 50 },
      dublin: { loadZone: 'amazon:ie:dublin', percent: 50 },
    },
  },
};

const BASE_URL = __ENV.BASE_URL || 'https://orders.staging.example.com';

export default function () {
  const list = http.get(`${BASE_URL}/api/orders?limit=50`);
  check(list, { 'list status is 200': (r) => r.status === 200 });

  const payload = JSON.stringify({ sku: 'SKU-1042', quantity: 1 });
  const created = http.post(`${BASE_URL}/api/orders`, payload, {
    headers: { 'Content-Type': 'application/json' },
  });
  check(created, { 'order created': (r) => r.status === 201 });
  sleep(1);
}
"""

ORDERS_SOAK = """import http from 'k6/http';
import { check, sleep } from 'k6';

export const options = {
  vus: 50,
  duration: '30m',
  thresholds: {
    http_req_duration: ['p(95)<500', 'p(99)<1000'],
    http_req_failed: ['rate<0.01'],
  },
  cloud: {
    name: 'Orders API Soak Test',
    distribution: {
      ashburn: { loadZone: 'amazon:us:ashburn', percent: 50 },
      dublin: { loadZone: 'amazon:ie:dublin', percent: 50 },
    },
  },
};

const BASE_URL = __ENV.BASE_URL || 'https://orders.staging.example.com';

export default function () {
  const list = http.get(`${BASE_URL}/api/orders?limit=20`);
  check(list, {
    'list status is 200': (r) => r.status === 200,
    'list has orders': (r) => r.json('items.length') > 0,
  });

  const payload = JSON.stringify({ sku: 'SKU-1042', quantity: 1 });
  const created = http.post(`${BASE_URL}/api/orders`, payload, {
    headers: { 'Content-Type': 'application/json' },
  });
  check(created, { 'order created': (r) => r.status === 201 });
  sleep(1);
}
"""

ORDERS_SMOKE = """import http from 'k6/http';
import { check, sleep } from 'k6';

export const options = {
  vus: 2,
  duration: '1m',
  thresholds: {
    http_req_duration: ['p(95)<300'],
    http_req_failed: ['rate<0.01'],
  },
};

const BASE_URL = __ENV.BASE_URL || 'https://orders.staging.example.com';

export default function () {
  const res = http.get(`${BASE_URL}/api/orders/health`);
  check(res, {
    'status is 200': (r) => r.status === 200,
    'body says ok': (r) => r.body.includes('ok'),
  });
  sleep(1);
}
"""

CHECKOUT_SPIKE = """import http from 'k6/http';
import { check, sleep } from 'k6';

export const options = {
  stages: [
    { duration: '1m', target: 50 },
    { duration: '30s', target: 400 },
    { duration: '3m', target: 400 },
    { duration: '1m', target: 0 },
  ],
  thresholds: {
    http_req_duration: ['p(95)<800'],
    'http_req_duration{name:pay}': ['p(95)<700'],
    http_req_failed: ['rate<0.02'],
    checks: ['rate>0.98'],
  },
};

const BASE_URL = __ENV.BASE_URL || 'https://checkout.staging.example.com';

export default function () {
  const cart = http.post(`${BASE_URL}/api/cart`, JSON.stringify({ items: [{ sku: 'SKU-7', qty: 2 }] }), {
    headers: { 'Content-Type': 'application/json' },
    tags: { name: 'cart' },
  });
  check(cart, { 'cart created': (r) => r.status === 201 });

  const pay = http.post(`${BASE_URL}/api/checkout/${cart.json('id')}/pay`, null, { tags: { name: 'pay' } });
  check(pay, {
    'payment accepted': (r) => r.status === 200,
    'payment under 800ms': (r) => r.timings.duration < 800,
  });
  sleep(0.5);
}
"""

PAYMENTS_LOAD = """import http from 'k6/http';
import { check, sleep } from 'k6';

export const options = {
  stages: [
    { duration: '3m', target: 100 },
    { duration: '10m', target: 100 },
    { duration: '2m', target: 0 },
  ],
  thresholds: {
    http_req_duration: ['p(95)<400'],
    // The 3-D Secure step left the script in March; its threshold stayed (it sees no requests any more).
    'http_req_duration{name:3ds-challenge}': ['p(95)<1500'],
    http_req_failed: ['rate<0.005'],
  },
};

const BASE_URL = __ENV.BASE_URL || 'https://payments.staging.example.com';

export default function () {
  const res = http.post(`${BASE_URL}/v2/authorize`, JSON.stringify({ amount: 1999, currency: 'EUR' }), {
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': `${__VU}-${__ITER}` },
    tags: { name: 'authorize' },
  });
  check(res, { 'authorized': (r) => r.status === 200 });
  sleep(1);
}
"""

LOGIN_FLOW = """import http from 'k6/http';
import { check, sleep } from 'k6';

export const options = {
  vus: 20,
  duration: '10m',
  thresholds: {
    http_req_duration: ['p(95)<600'],
  },
};

const BASE_URL = __ENV.BASE_URL || 'https://auth.staging.example.com';

export default function () {
  const login = http.post(`${BASE_URL}/oauth/token`, {
    grant_type: 'password',
    username: `user${__VU}@example.com`,
    password: __ENV.DEMO_PASSWORD,
  });
  const token = login.json().access_token;
  const me = http.get(`${BASE_URL}/api/me`, { headers: { Authorization: `Bearer ${token}` } });
  check(me, { 'profile loaded': (r) => r.status === 200 });
  sleep(1);
}
"""

SEARCH_STRESS = """import http from 'k6/http';
import { check, sleep } from 'k6';

export const options = {
  stages: [
    { duration: '5m', target: 100 },
    { duration: '5m', target: 200 },
    { duration: '5m', target: 300 },
    { duration: '5m', target: 0 },
  ],
  thresholds: {
    http_req_failed: [{ threshold: 'rate<0.05', abortOnFail: true }],
    http_req_duration: ['p(95)<1200'],
  },
};

const TERMS = ['shoes', 'laptop', 'coffee', 'headphones', 'desk lamp'];

export default function () {
  const term = TERMS[Math.floor(Math.random() * TERMS.length)];
  const res = http.get(`https://search.staging.example.com/api/search?q=${encodeURIComponent(term)}`);
  check(res, {
    'status is 200': (r) => r.status === 200,
    'has results': (r) => r.json('total') > 0,
  });
  sleep(0.3);
}
"""

STOREFRONT_BROWSER = """import { browser } from 'k6/browser';
import { check } from 'k6';

export const options = {
  scenarios: {
    ui: {
      executor: 'constant-vus',
      vus: 5,
      duration: '10m',
      options: { browser: { type: 'chromium' } },
    },
  },
  thresholds: {
    browser_web_vital_lcp: ['p(75)<2500'],
  },
};

export default async function () {
  const page = await browser.newPage();
  try {
    await page.goto('https://shop.staging.example.com/');
    const title = await page.title();
    check(title, { 'storefront title shown': (t) => t.includes('Shop') });
  } finally {
    await page.close();
  }
}
"""

INVENTORY_BASELINE = """import http from 'k6/http';
import { check, sleep } from 'k6';

export const options = {
  vus: 20,
  duration: '10m',
  thresholds: {
    http_req_duration: ['p(95)<250'],
  },
};

export default function () {
  const res = http.get('https://inventory.staging.example.com/api/stock?warehouse=ams-1');
  check(res, { 'status is 200': (r) => r.status === 200 });
  sleep(1);
}
"""

REFUNDS_LOAD = """import http from 'k6/http';
import { check, sleep } from 'k6';

export const options = {
  vus: 30,
  duration: '10m',
  thresholds: {
    http_req_duration: ['p(95)<500'],
    http_req_failed: ['rate<0.01'],
  },
};

export default function () {
  const body = JSON.stringify({ payment: 'pay_123' });
  const res = http.post('https://payments.staging.example.com/v2/refunds', body, {
    headers: { 'Content-Type': 'application/json' },
  });
  check(res, { 'refund accepted': (r) => r.status === 202 });
  sleep(1);
}
"""
