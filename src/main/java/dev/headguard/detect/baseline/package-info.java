/** The input-filter baselines HeadGuard is measured against: STRIP ({@code Strip}) and RAP ({@code Rap}). */
package dev.headguard.detect.baseline;
