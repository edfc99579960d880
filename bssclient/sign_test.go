package bssclient

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The vectors below are the published examples of the signing documents
// (https://www.alibabacloud.com/help/doc-detail/50286.html for V1,
// https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature for V3) and BSS requests signed by
// Alibaba's openapi-util and darabonba-openapi, copied verbatim.

func TestPercentEncode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"AZaz09-_.~", "AZaz09-_.~"},
		{"a b*c~", "a%20b%2Ac~"},
		{"/", "%2F"},
		{"+=&:", "%2B%3D%26%3A"},
		{"阿", "%E9%98%BF"},
		{"2016-02-23T12:46:24Z", "2016-02-23T12%3A46%3A24Z"},
		{"CAESEgoQCg4KCm/+=", "CAESEgoQCg4KCm%2F%2B%3D"},
	}
	for _, tt := range tests {
		if got := percentEncode(tt.in); got != tt.want {
			t.Errorf("percentEncode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSignatureVersionParseAndString(t *testing.T) {
	tests := []struct {
		in      string
		want    SignatureVersion
		wantErr string
	}{
		{in: "v3", want: SignatureV3},
		{in: "V3", want: SignatureV3},
		{in: "v1", want: SignatureV1},
		{in: "V1", want: SignatureV1},
		{in: "v2", wantErr: `unknown signature version "v2": want v3 or v1`},
		{in: "", wantErr: `unknown signature version "": want v3 or v1`},
	}
	for _, tt := range tests {
		got, err := ParseSignatureVersion(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseSignatureVersion(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSignatureVersion(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if got.String() != strings.ToLower(tt.in) {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), strings.ToLower(tt.in))
		}
	}
	if s := SignatureVersion(7).String(); s != "SignatureVersion(7)" {
		t.Errorf("unknown version String() = %q", s)
	}
}

func values(pairs ...string) url.Values {
	v := url.Values{}
	for i := 0; i < len(pairs); i += 2 {
		v.Add(pairs[i], pairs[i+1])
	}
	return v
}

func TestSignatureV1Vectors(t *testing.T) {
	describeRegions := func(timestampName string) url.Values {
		return values(
			"AccessKeyId", "testid",
			"Action", "DescribeRegions",
			"Format", "XML",
			"SignatureMethod", "HMAC-SHA1",
			"SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
			"SignatureVersion", "1.0",
			timestampName, "2016-02-23T12:46:24Z",
			"Version", "2014-05-26",
		)
	}
	sdkComposer := values(
		"AccessKeyId", "accessKeyId", "Action", "", "Format", "JSON", "RegionId", "regionId",
		"SignatureMethod", "HMAC-SHA1", "SignatureNonce", "MOCK_UUID", "SignatureType", "",
		"SignatureVersion", "1.0", "Timestamp", "mock date", "Version", "",
	)
	sdkComposerSTS := values("SecurityToken", "accessKeyStsToken")
	for k, v := range sdkComposer {
		sdkComposerSTS[k] = v
	}
	const longQ = "http://domain/?q=value&q2=value2"

	tests := []struct {
		name          string
		method        string
		params        url.Values
		secret        string
		wantToSign    string // "" = not published, only the signature is checked
		wantSignature string // "" = the vector publishes only the string to sign
	}{
		{
			name: "TV-V1-1 DescribeRegions", method: "GET", params: describeRegions("Timestamp"), secret: "testsecret",
			wantToSign:    "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26",
			wantSignature: "OLeaidS1JvxuMvnyHOwuJ+uX5qY=",
		},
		{
			name: "TV-V1-2 TimeStamp spelling", method: "GET", params: describeRegions("TimeStamp"), secret: "testsecret",
			wantSignature: "CT9X0VtwR86fNWSnsc6v8YGOjuE=",
		},
		{
			name: "TV-V1-3 SendSms with Chinese", method: "GET", secret: "testSecret",
			params: values(
				"AccessKeyId", "testId", "Action", "SendSms", "Format", "XML", "OutId", "123",
				"PhoneNumbers", "15300000001", "RegionId", "cn-hangzhou", "SignName", "阿里云短信测试专用",
				"SignatureMethod", "HMAC-SHA1", "SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466",
				"SignatureVersion", "1.0", "TemplateCode", "SMS_71390007", "TemplateParam", `{"customer":"test"}`,
				"Timestamp", "2017-07-12T02:42:19Z", "Version", "2017-05-25",
			),
			wantToSign:    "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123%26PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1%25E6%25B5%258B%25E8%25AF%2595%25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0%26TemplateCode%3DSMS_71390007%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25",
			wantSignature: "zJDF+Lrzhj/ThnlvIToysFRq6t4=",
		},
		{
			name: "TV-V1-4 sdk composer AK", method: "GET", params: sdkComposer, secret: "accessKeySecret",
			wantToSign:    "GET&%2F&AccessKeyId%3DaccessKeyId%26Action%3D%26Format%3DJSON%26RegionId%3DregionId%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3DMOCK_UUID%26SignatureType%3D%26SignatureVersion%3D1.0%26Timestamp%3Dmock%2520date%26Version%3D",
			wantSignature: "7loPmFjvDnzOVnQeQNj85S6nFGY=",
		},
		{
			name: "TV-V1-4 sdk composer STS", method: "GET", params: sdkComposerSTS, secret: "accessKeySecret",
			wantToSign:    "GET&%2F&AccessKeyId%3DaccessKeyId%26Action%3D%26Format%3DJSON%26RegionId%3DregionId%26SecurityToken%3DaccessKeyStsToken%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3DMOCK_UUID%26SignatureType%3D%26SignatureVersion%3D1.0%26Timestamp%3Dmock%2520date%26Version%3D",
			wantSignature: "5Nxdcler+ihqWqv0Hr2On4PsBf4=",
		},
		{name: "TV-V1-5 no params", method: "GET", params: url.Values{}, wantToSign: "GET&%2F&"},
		{name: "TV-V1-5 form key", method: "GET", params: values("key", "value"), wantToSign: "GET&%2F&key%3Dvalue"},
		{name: "TV-V1-5 form and query", method: "GET", params: values("key", "value", "q", "value"), wantToSign: "GET&%2F&key%3Dvalue%26q%3Dvalue"},
		{
			name: "TV-V1-5 url value", method: "GET", params: values("key", "value", "q", longQ),
			wantToSign: "GET&%2F&key%3Dvalue%26q%3Dhttp%253A%252F%252Fdomain%252F%253Fq%253Dvalue%2526q2%253Dvalue2",
		},
		{name: "TV-V1-5 credentials-go empty", method: "", params: url.Values{}, wantToSign: "&%2F&"},
		{name: "TV-V1-5 credentials-go q", method: "", params: values("q", "value"), wantToSign: "&%2F&q%3Dvalue"},
		{
			name: "TV-V1-5 credentials-go url value", method: "", params: values("q", longQ),
			wantToSign: "&%2F&q%3Dhttp%253A%252F%252Fdomain%252F%253Fq%253Dvalue%2526q2%253Dvalue2",
		},
		{
			name: "TV-V1-5 credentials-go body and query", method: "", params: values("q", longQ, "bq", "bq"),
			wantToSign: "&%2F&bq%3Dbq%26q%3Dhttp%253A%252F%252Fdomain%252F%253Fq%253Dvalue%2526q2%253Dvalue2",
		},
		{
			name: "TV-V1-6 openapi-util", method: "", params: values("test", "ok"), secret: "accessKeySecret",
			wantToSign: "&%2F&test%3Dok", wantSignature: "jHx/oHoHNrbVfhncHEvPdHXZwHU=",
		},
		{
			name: "Signature param is not signed", method: "GET", params: values("test", "ok", "Signature", "abc"),
			wantToSign: "GET&%2F&test%3Dok",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toSign := stringToSignV1(tt.method, tt.params)
			if tt.wantToSign != "" && toSign != tt.wantToSign {
				t.Errorf("stringToSignV1:\n got %s\nwant %s", toSign, tt.wantToSign)
			}
			if tt.wantSignature != "" {
				if got := computeSignatureV1(tt.secret, toSign); got != tt.wantSignature {
					t.Errorf("computeSignatureV1 = %s, want %s", got, tt.wantSignature)
				}
			}
		})
	}
}

// TV-V1-7: the HMAC-SHA1+Base64 primitive, key used as-is.
func TestHMACSHA1Primitive(t *testing.T) {
	tests := []struct{ data, key, want string }{
		{"source", "secret", "Jv4yi8SobFhg5t1C7nWLbhBSFZQ="},
		{"中文", "secret", "CqCYIa39h9SSWuXnTz8F5hh9UPA="},
	}
	for _, tt := range tests {
		if got := hmacSHA1Base64(tt.key, tt.data); got != tt.want {
			t.Errorf("hmacSHA1Base64(%q, %q) = %s, want %s", tt.key, tt.data, got, tt.want)
		}
	}
}

// TV-V1-D: a BSS call signed by signParamsV1, with and without an STS token.
func TestSignParamsV1BSSVector(t *testing.T) {
	date := time.Date(2024, 6, 1, 16, 30, 0, 0, time.FixedZone("UTC+8", 8*3600)) // 08:30Z: the zone must not matter
	const nonce = "6a8a4f02-3c1e-4d0b-9c55-0f0e2b7d1a11"
	const wantToSign = "POST&%2F&AccessKeyId%3Dtestid%26Action%3DQueryAccountBill%26BillingCycle%3D2024-05%26Format%3DJSON%26IsGroupByProduct%3Dtrue%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D6a8a4f02-3c1e-4d0b-9c55-0f0e2b7d1a11%26SignatureVersion%3D1.0%26Timestamp%3D2024-06-01T08%253A30%253A00Z%26Version%3D2017-12-14"
	tests := []struct {
		name          string
		token         string
		wantSignature string
	}{
		{"access key", "", "OH0ExN3PIUO1H84/DOim0yKyYeg="},
		{"sts", "test-sts-token", "hjbnX8Wg2hCFsE9GVfdZVhp8cP8="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := values("BillingCycle", "2024-05", "IsGroupByProduct", "true")
			cred := Credentials{AccessKeyID: "testid", AccessKeySecret: "testsecret", SecurityToken: tt.token}
			signParamsV1("POST", params, "QueryAccountBill", "2017-12-14", cred, date, nonce)
			if tt.token == "" {
				if toSign := stringToSignV1("POST", params); toSign != wantToSign {
					t.Errorf("stringToSignV1:\n got %s\nwant %s", toSign, wantToSign)
				}
			} else if got := params.Get("SecurityToken"); got != tt.token {
				t.Errorf("SecurityToken = %q, want %q", got, tt.token)
			}
			if got := params.Get("Signature"); got != tt.wantSignature {
				t.Errorf("Signature = %s, want %s", got, tt.wantSignature)
			}
			if got := params.Get("Timestamp"); got != "2024-06-01T08:30:00Z" {
				t.Errorf("Timestamp = %s", got)
			}
		})
	}

	t.Run("re-signing without a token drops the old token and signature", func(t *testing.T) {
		params := values("BillingCycle", "2024-05", "IsGroupByProduct", "true")
		signParamsV1("POST", params, "QueryAccountBill", "2017-12-14",
			Credentials{AccessKeyID: "testid", AccessKeySecret: "testsecret", SecurityToken: "test-sts-token"}, date, nonce)
		signParamsV1("POST", params, "QueryAccountBill", "2017-12-14",
			Credentials{AccessKeyID: "testid", AccessKeySecret: "testsecret"}, date, nonce)
		if params.Has("SecurityToken") {
			t.Errorf("SecurityToken still present: %v", params)
		}
		if got := params["Signature"]; len(got) != 1 || got[0] != "OH0ExN3PIUO1H84/DOim0yKyYeg=" {
			t.Errorf("Signature = %v, want [OH0ExN3PIUO1H84/DOim0yKyYeg=]", got)
		}
	})
}

func TestCanonicalQueryV3(t *testing.T) {
	tests := []struct {
		in   url.Values
		want string
	}{
		{url.Values{}, ""},
		{values("test", "ok", "empty", ""), "empty=&test=ok"},
		{values("b", "2", "a", "y", "a", "x"), "a=x&a=y&b=2"},
		{url.Values{"k": nil}, "k="},
		{values("TagFilter.1.TagKey", "a b", "NextToken", "CAESEgoQCg4KCm/+="), "NextToken=CAESEgoQCg4KCm%2F%2B%3D&TagFilter.1.TagKey=a%20b"},
	}
	for _, tt := range tests {
		if got := canonicalQueryV3(tt.in); got != tt.want {
			t.Errorf("canonicalQueryV3(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TV-V3-3: hash primitives.
func TestPayloadHashPrimitive(t *testing.T) {
	if got := hashHex([]byte("test")); got != "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" {
		t.Errorf(`hashHex("test") = %s`, got)
	}
	if got := hashHex(nil); got != emptyPayloadHash {
		t.Errorf(`hashHex("") = %s, want emptyPayloadHash`, got)
	}
}

func TestCanonicalRequestV3Vectors(t *testing.T) {
	docHeaders := func() http.Header {
		h := http.Header{}
		h.Set("x-acs-action", "RunInstances")
		h.Set("x-acs-version", "2014-05-26")
		h.Set("x-acs-date", "2023-10-26T10:22:32Z")
		h.Set("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d")
		h.Set("x-acs-content-sha256", emptyPayloadHash)
		return h
	}
	withUnsigned := docHeaders()
	withUnsigned.Set("User-Agent", "AlibabaCloud (linux; amd64) Go/1.26")
	withUnsigned.Set("Accept", "application/json")
	withUnsigned.Set("Authorization", "ACS3-HMAC-SHA256 Credential=x,SignedHeaders=host,Signature=00")
	hostInHeader := docHeaders()
	hostInHeader["host"] = []string{"ecs.cn-shanghai.aliyuncs.com"}

	const docCanonical = "POST\n/\n" +
		"ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\n" +
		"host:ecs.cn-shanghai.aliyuncs.com\n" +
		"x-acs-action:RunInstances\n" +
		"x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n" +
		"x-acs-date:2023-10-26T10:22:32Z\n" +
		"x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n" +
		"x-acs-version:2014-05-26\n" +
		"\n" +
		"host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	docQuery := values("RegionId", "cn-shanghai", "ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd")
	const docToSign = "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
	const docAuth = "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"

	tests := []struct {
		name                  string
		method, path          string
		query                 url.Values
		header                http.Header
		host, payload         string
		keyID, secret         string
		wantCanonical         string
		wantSigned, wantToSig string
		wantAuth              string
	}{
		{
			name: "TV-V3-1 doc example", method: "POST", path: "/", query: docQuery, header: docHeaders(),
			host: "ecs.cn-shanghai.aliyuncs.com", payload: emptyPayloadHash, keyID: "YourAccessKeyId", secret: "YourAccessKeySecret",
			wantCanonical: docCanonical, wantToSig: docToSign, wantAuth: docAuth,
			wantSigned: "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version",
		},
		{
			name: "TV-V3-1 unsigned headers do not count", method: "POST", path: "/", query: docQuery, header: withUnsigned,
			host: "ecs.cn-shanghai.aliyuncs.com", payload: emptyPayloadHash, keyID: "YourAccessKeyId", secret: "YourAccessKeySecret",
			wantCanonical: docCanonical, wantToSig: docToSign, wantAuth: docAuth,
			wantSigned: "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version",
		},
		{
			name: "TV-V3-1 host as a header", method: "post", path: "/", query: docQuery, header: hostInHeader,
			host: "", payload: emptyPayloadHash, keyID: "YourAccessKeyId", secret: "YourAccessKeySecret",
			wantCanonical: docCanonical, wantToSig: docToSign, wantAuth: docAuth,
			wantSigned: "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version",
		},
		{
			name: "TV-V3-2 openapi-util GetAuthorization", method: "", path: "",
			query: values("test", "ok", "empty", ""),
			// Two map keys differing only in case, as in the Tea test; not canonicalized on purpose.
			header:  http.Header{"x-acs-test": {"http"}, "x-acs-TEST": {"https"}},
			payload: "55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23",
			keyID:   "acesskey", secret: "secret",
			wantCanonical: "\n/\nempty=&test=ok\nx-acs-test:http,https\n\nx-acs-test\n55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23",
			wantSigned:    "x-acs-test",
			wantAuth:      "ACS3-HMAC-SHA256 Credential=acesskey,SignedHeaders=x-acs-test,Signature=4ab59fffe3c5738ff8a2729f90cc04fe18b02a4b15b2102cbaf92f9ff3df2ea3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			canonical, signed := canonicalRequestV3(tt.method, tt.path, tt.query, tt.header, tt.host, tt.payload)
			if canonical != tt.wantCanonical {
				t.Errorf("canonical request:\n got %q\nwant %q", canonical, tt.wantCanonical)
			}
			if signed != tt.wantSigned {
				t.Errorf("signed headers = %q, want %q", signed, tt.wantSigned)
			}
			toSign := stringToSignV3(canonical)
			if tt.wantToSig != "" && toSign != tt.wantToSig {
				t.Errorf("string to sign = %q, want %q", toSign, tt.wantToSig)
			}
			auth := authorizationV3(tt.keyID, signed, computeSignatureV3(tt.secret, toSign))
			if auth != tt.wantAuth {
				t.Errorf("Authorization:\n got %s\nwant %s", auth, tt.wantAuth)
			}
		})
	}
}

// TV-V3-D: a BSS call signed by signRequestV3, with and without STS.
func TestSignRequestV3BSSVector(t *testing.T) {
	const baseCanonical = "POST\n/\n" +
		"BillingCycle=2024-05&BillingDate=2024-05-31&Granularity=DAILY&MaxResults=300&NextToken=CAESEgoQCg4KCm%2F%2B%3D\n" +
		"host:business.aliyuncs.com\n" +
		"x-acs-action:DescribeInstanceBill\n" +
		"x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n" +
		"x-acs-date:2024-06-01T08:30:00Z\n" +
		"x-acs-signature-nonce:0b5f1d6c9e2a4f7b8c3d2e1f0a9b8c7d\n" +
		"x-acs-version:2017-12-14\n" +
		"\n" +
		"host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	tests := []struct {
		name          string
		token         string
		wantCanonical string // "" = not published for this case
		wantToSign    string
		wantAuth      string
	}{
		{
			name: "access key", wantCanonical: baseCanonical,
			wantToSign: "ACS3-HMAC-SHA256\n00374ab353da35f36f0dcb5ae12e08b312a246f97ccf69be3f44c77fab05893b",
			wantAuth:   "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=6400d4a5894c37285d00bf2897682c324e078dc2f67ed5b529c2d7ee3dd036b6",
		},
		{
			name: "sts", token: "test-sts-token",
			wantToSign: "ACS3-HMAC-SHA256\nf65aa78896db7a5929be5c9a5339355330ecc52dff77ca53f13606fecc6c90c7",
			wantAuth:   "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version,Signature=41fca07b4060cc0868d3076b8d650420f283fbf33fdbe6af35fd38cdf76082ea",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newBSSRequest(t)
			cred := Credentials{AccessKeyID: "testid", AccessKeySecret: "testsecret", SecurityToken: tt.token}
			signRequestV3(req, "DescribeInstanceBill", "2017-12-14", cred, bssVectorDate, "0b5f1d6c9e2a4f7b8c3d2e1f0a9b8c7d")

			if got := req.Header.Get("Authorization"); got != tt.wantAuth {
				t.Errorf("Authorization:\n got %s\nwant %s", got, tt.wantAuth)
			}
			canonical, _ := canonicalRequestV3(req.Method, req.URL.Path, req.URL.Query(), req.Header, req.Host, req.Header.Get("x-acs-content-sha256"))
			if tt.wantCanonical != "" && canonical != tt.wantCanonical {
				t.Errorf("canonical request:\n got %q\nwant %q", canonical, tt.wantCanonical)
			}
			if got := stringToSignV3(canonical); got != tt.wantToSign {
				t.Errorf("string to sign = %q, want %q", got, tt.wantToSign)
			}
			wantHeaders := map[string]string{
				"x-acs-action": "DescribeInstanceBill", "x-acs-version": "2017-12-14",
				"x-acs-date": "2024-06-01T08:30:00Z", "x-acs-signature-nonce": "0b5f1d6c9e2a4f7b8c3d2e1f0a9b8c7d",
				"x-acs-content-sha256": emptyPayloadHash, "x-acs-security-token": tt.token, "x-acs-accesskey-id": "",
			}
			if tt.token != "" {
				wantHeaders["x-acs-accesskey-id"] = "testid"
			}
			for name, want := range wantHeaders {
				if got := req.Header.Get(name); got != want {
					t.Errorf("header %s = %q, want %q", name, got, want)
				}
			}
		})
	}

	t.Run("re-signing without a token drops the STS headers", func(t *testing.T) {
		req := newBSSRequest(t)
		signRequestV3(req, "DescribeInstanceBill", "2017-12-14",
			Credentials{AccessKeyID: "testid", AccessKeySecret: "testsecret", SecurityToken: "test-sts-token"}, bssVectorDate, "0b5f1d6c9e2a4f7b8c3d2e1f0a9b8c7d")
		signRequestV3(req, "DescribeInstanceBill", "2017-12-14",
			Credentials{AccessKeyID: "testid", AccessKeySecret: "testsecret"}, bssVectorDate, "0b5f1d6c9e2a4f7b8c3d2e1f0a9b8c7d")
		if got := req.Header.Get("Authorization"); got != tests[0].wantAuth {
			t.Errorf("Authorization after re-signing = %s", got)
		}
	})
}

// bssVectorDate is TV-V3-D's x-acs-date given in UTC+8: the zone must not matter.
var bssVectorDate = time.Date(2024, 6, 1, 16, 30, 0, 0, time.FixedZone("UTC+8", 8*3600))

func bssVectorQuery() url.Values {
	return values("BillingCycle", "2024-05", "Granularity", "DAILY", "BillingDate", "2024-05-31",
		"MaxResults", "300", "NextToken", "CAESEgoQCg4KCm/+=")
}

func newBSSRequest(t *testing.T) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "https://business.aliyuncs.com/?"+bssVectorQuery().Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "aliyun-billing-exporter/test")
	req.Header.Set("Accept", "application/json")
	return req
}

// verifyV3 is what a server does: recompute the signature from the request
// as received and compare it with the Authorization header.
func verifyV3(r *http.Request, secret string) (ok bool, detail string) {
	keyID, signed, signature, err := parseAuthorizationV3(r.Header.Get("Authorization"))
	if err != nil {
		return false, err.Error()
	}
	canonical, signedHeaders := canonicalRequestV3(r.Method, r.URL.Path, r.URL.Query(), r.Header, r.Host, r.Header.Get("x-acs-content-sha256"))
	if signedHeaders != strings.Join(signed, ";") {
		return false, "signed headers " + signedHeaders + " != " + strings.Join(signed, ";")
	}
	want := computeSignatureV3(secret, stringToSignV3(canonical))
	if keyID != "testid" || signature != want {
		return false, "signature " + signature + " != " + want
	}
	return true, ""
}

// A request signed by signRequestV3 and sent through a real HTTP round trip
// verifies on the server side.
func TestSignRequestV3RoundTrip(t *testing.T) {
	type result struct {
		ok     bool
		detail string
		body   string
	}
	results := make(chan result, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ok, detail := verifyV3(r, "testsecret")
		if ok && hashHex(body) != r.Header.Get("x-acs-content-sha256") {
			ok, detail = false, "body hash mismatch"
		}
		results <- result{ok, detail, string(body)}
	}))
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server not on 127.0.0.1: %s", srv.URL)
	}

	tests := []struct {
		name  string
		token string
		body  string
	}{
		{name: "access key, empty body"},
		{name: "sts, empty body", token: "tok/+= with space"},
		{name: "with a body", body: "a=1&b=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			q := bssVectorQuery()
			q.Set("ProductCode", "ecs ö*~")
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/?"+q.Encode(), body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("User-Agent", "aliyun-billing-exporter/test")
			signRequestV3(req, "DescribeInstanceBill", "2017-12-14",
				Credentials{AccessKeyID: "testid", AccessKeySecret: "testsecret", SecurityToken: tt.token}, bssVectorDate, newNonce())
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			r := <-results
			if !r.ok {
				t.Errorf("server rejected the signature: %s", r.detail)
			}
			if r.body != tt.body {
				t.Errorf("server got body %q, want %q", r.body, tt.body)
			}
		})
	}
}

// Changing any signed header or any query parameter after signing breaks
// the signature; changing an unsigned header does not.
func TestSignRequestV3Tamper(t *testing.T) {
	sign := func() *http.Request {
		req := newBSSRequest(t)
		signRequestV3(req, "DescribeInstanceBill", "2017-12-14",
			Credentials{AccessKeyID: "testid", AccessKeySecret: "testsecret", SecurityToken: "test-sts-token"}, bssVectorDate, "0b5f1d6c9e2a4f7b8c3d2e1f0a9b8c7d")
		return req
	}
	if ok, detail := verifyV3(sign(), "testsecret"); !ok {
		t.Fatalf("untampered request does not verify: %s", detail)
	}
	if ok, _ := verifyV3(sign(), "othersecret"); ok {
		t.Errorf("request verifies with the wrong secret")
	}

	_, signed, _, err := parseAuthorizationV3(sign().Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range signed {
		t.Run("header "+name, func(t *testing.T) {
			req := sign()
			if name == "host" {
				req.Host = "business.ap-southeast-1.aliyuncs.com"
			} else {
				req.Header.Set(name, req.Header.Get(name)+"x")
			}
			if ok, _ := verifyV3(req, "testsecret"); ok {
				t.Errorf("tampering with %s went unnoticed", name)
			}
		})
	}
	for name := range bssVectorQuery() {
		t.Run("query "+name, func(t *testing.T) {
			req := sign()
			q := req.URL.Query()
			q.Set(name, q.Get(name)+"1")
			req.URL.RawQuery = q.Encode()
			if ok, _ := verifyV3(req, "testsecret"); ok {
				t.Errorf("tampering with query %s went unnoticed", name)
			}
		})
	}
	t.Run("added query param", func(t *testing.T) {
		req := sign()
		req.URL.RawQuery += "&ProductCode=ecs"
		if ok, _ := verifyV3(req, "testsecret"); ok {
			t.Errorf("added query param went unnoticed")
		}
	})
	t.Run("added x-acs header", func(t *testing.T) {
		req := sign()
		req.Header.Set("x-acs-extra", "1")
		if ok, _ := verifyV3(req, "testsecret"); ok {
			t.Errorf("added x-acs header went unnoticed")
		}
	})
	t.Run("method", func(t *testing.T) {
		req := sign()
		req.Method = http.MethodGet
		if ok, _ := verifyV3(req, "testsecret"); ok {
			t.Errorf("changed method went unnoticed")
		}
	})
	t.Run("unsigned header", func(t *testing.T) {
		req := sign()
		req.Header.Set("User-Agent", "something else")
		req.Header.Set("Accept", "*/*")
		if ok, detail := verifyV3(req, "testsecret"); !ok {
			t.Errorf("unsigned header change broke the signature: %s", detail)
		}
	})
}

func TestParseAuthorizationV3(t *testing.T) {
	tests := []struct {
		in         string
		wantID     string
		wantSigned []string
		wantSig    string
		wantErr    string
	}{
		{
			in:     "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action,Signature=abc123",
			wantID: "testid", wantSigned: []string{"host", "x-acs-action"}, wantSig: "abc123",
		},
		{
			in:     "ACS3-HMAC-SHA256 Credential=testid, SignedHeaders=host, Signature=abc123",
			wantID: "testid", wantSigned: []string{"host"}, wantSig: "abc123",
		},
		{in: "", wantErr: "authorization header is empty"},
		{in: "acs testid:abc=", wantErr: `authorization algorithm is "acs", want "ACS3-HMAC-SHA256"`},
		{in: "ACS3-HMAC-SHA256", wantErr: "authorization has nothing after the algorithm"},
		{in: "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host", wantErr: "authorization lacks Signature"},
		{in: "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=", wantErr: "authorization Signature is empty"},
		{in: "ACS3-HMAC-SHA256 Credential=a,Credential=b,SignedHeaders=host,Signature=x", wantErr: "authorization has Credential twice"},
		{in: "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=x,Extra=1", wantErr: `authorization has unknown part "Extra"`},
		{in: "ACS3-HMAC-SHA256 Credential=a,SignedHeaders,Signature=x", wantErr: `authorization part "SignedHeaders" is not key=value`},
		{in: "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host;;x,Signature=x", wantErr: `authorization SignedHeaders "host;;x" has an empty or non-lower-case name`},
		{in: "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=Host,Signature=x", wantErr: `authorization SignedHeaders "Host" has an empty or non-lower-case name`},
	}
	for _, tt := range tests {
		id, signed, sig, err := parseAuthorizationV3(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("parseAuthorizationV3(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || id != tt.wantID || strings.Join(signed, ";") != strings.Join(tt.wantSigned, ";") || sig != tt.wantSig {
			t.Errorf("parseAuthorizationV3(%q) = %q, %q, %q, %v", tt.in, id, signed, sig, err)
		}
	}
}

func TestNewNonce(t *testing.T) {
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for range 100 {
		n := newNonce()
		if !hex32.MatchString(n) {
			t.Fatalf("newNonce() = %q, want 32 lowercase hex chars", n)
		}
		if seen[n] {
			t.Fatalf("newNonce() repeated %q", n)
		}
		seen[n] = true
	}
}

// parseAuthorizationV3 parses an Authorization header made by
// authorizationV3: a test helper, the client never reads one. The error names the malformed part.
func parseAuthorizationV3(h string) (accessKeyID string, signedHeaders []string, signature string, err error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return "", nil, "", errors.New("authorization header is empty")
	}
	algorithm, rest, ok := strings.Cut(h, " ")
	if algorithm != algorithmV3 {
		return "", nil, "", fmt.Errorf("authorization algorithm is %q, want %q", truncateForError(algorithm), algorithmV3)
	}
	if !ok || strings.TrimSpace(rest) == "" {
		return "", nil, "", errors.New("authorization has nothing after the algorithm")
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return "", nil, "", fmt.Errorf("authorization part %q is not key=value", truncateForError(part))
		}
		switch key {
		case "Credential", "SignedHeaders", "Signature":
		default:
			return "", nil, "", fmt.Errorf("authorization has unknown part %q", truncateForError(key))
		}
		if _, dup := fields[key]; dup {
			return "", nil, "", fmt.Errorf("authorization has %s twice", key)
		}
		if value == "" {
			return "", nil, "", fmt.Errorf("authorization %s is empty", key)
		}
		fields[key] = value
	}
	for _, key := range []string{"Credential", "SignedHeaders", "Signature"} {
		if _, ok := fields[key]; !ok {
			return "", nil, "", fmt.Errorf("authorization lacks %s", key)
		}
	}
	signedHeaders = strings.Split(fields["SignedHeaders"], ";")
	for _, name := range signedHeaders {
		if name == "" || name != strings.ToLower(name) {
			return "", nil, "", fmt.Errorf("authorization SignedHeaders %q has an empty or non-lower-case name", truncateForError(fields["SignedHeaders"]))
		}
	}
	return fields["Credential"], signedHeaders, fields["Signature"], nil
}
