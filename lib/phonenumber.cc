// The one C++ file: libphonenumber behind a C function (see mcr.h).
#include <phonenumbers/phonenumberutil.h>
#include <cstring>
#include <string>

extern "C" {
#include "mcr.h"
}

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

extern "C" int
mcr_pn_parse(const char *raw, const char *region, char *e164, size_t n,
    char country[3], int *type, int *valid, int *foreign)
{
	PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
	PhoneNumber num;
	std::string out, rc;

	*valid = 0;
	*foreign = 0;
	*type = MCR_LT_INVALID;
	country[0] = '\0';
	try {
		if (u->Parse(raw, region, &num) != PhoneNumberUtil::NO_PARSING_ERROR)
			return -1;
		u->Format(num, PhoneNumberUtil::E164, &out);
		if (out.size() >= n)
			return -1;
		std::memcpy(e164, out.c_str(), out.size() + 1);
		/*
		 * GetNumberType() finds the region that claims the number
		 * and matches its patterns: a known type is exactly what
		 * IsValidNumber() checks, so one pass gives both.  The
		 * country is the main region of the calling code (+44: GB,
		 * also for Guernsey or Jersey numbers), which saves a third
		 * pass over the regions sharing it.
		 */
		PhoneNumberUtil::PhoneNumberType t = u->GetNumberType(num);
		if (t == PhoneNumberUtil::UNKNOWN)
			return 0;
		*valid = 1;
		u->GetRegionCodeForCountryCode(num.country_code(), &rc);
		if (rc.size() == 2)
			std::memcpy(country, rc.c_str(), 3);
		*foreign = num.country_code() != u->GetCountryCodeForRegion(region);
		switch (t) {
		case PhoneNumberUtil::MOBILE:
			*type = MCR_LT_MOBILE;
			break;
		case PhoneNumberUtil::FIXED_LINE:
			*type = MCR_LT_FIXED;
			break;
		case PhoneNumberUtil::FIXED_LINE_OR_MOBILE:
			/* NANP: cannot tell; WhatsApp may still reach it */
			*type = MCR_LT_MOBILE;
			break;
		case PhoneNumberUtil::VOIP:
			*type = MCR_LT_VOIP;
			break;
		default:
			*type = MCR_LT_OTHER;
			break;
		}
	} catch (...) {
		return -1;
	}
	return 0;
}
